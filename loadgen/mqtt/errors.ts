/**
 * Errors of the MQTT client, each with a stable code (the load report counts connect failures by
 * code) and whether trying again later can succeed.
 */
export const MqttErrorCode = {
  /** Bytes that are not a well-formed MQTT 3.1.1 packet. */
  malformed: 'MQTT_ERR_MALFORMED',
  /** A packet above the client's size limit, refused from its header. */
  tooLarge: 'MQTT_ERR_TOO_LARGE',
  /** A well-formed packet this client does not implement (QoS 2, unsubscribe) or never expects. */
  unsupported: 'MQTT_ERR_UNSUPPORTED',
  /** The broker refused the connection; the CONNACK return code is in the message. */
  refused: 'MQTT_ERR_CONNACK_REFUSED',
  /** No CONNACK within the connect timeout. */
  connectTimeout: 'MQTT_ERR_CONNECT_TIMEOUT',
  /** No PINGRESP within a keepalive period: the connection is dead. */
  pingTimeout: 'MQTT_ERR_PING_TIMEOUT',
  /** The broker refused a subscription (SUBACK 0x80). */
  subscribeRefused: 'MQTT_ERR_SUBSCRIBE_REFUSED',
  /** Every packet identifier is in flight: the caller must wait for acknowledgements. */
  inflightFull: 'MQTT_ERR_INFLIGHT_FULL',
  /** The connection closed before the operation finished. */
  connectionClosed: 'MQTT_ERR_CONNECTION_CLOSED',
  /** A call the client's status does not allow, e.g. connect() while already connected. */
  badState: 'MQTT_ERR_BAD_STATE',
  /** The client was closed for good. */
  closed: 'MQTT_ERR_CLOSED',
  /** A payload that is not the load generator's message format. */
  badPayload: 'MQTT_ERR_BAD_PAYLOAD',
} as const;

export type MqttErrorCodeValue = (typeof MqttErrorCode)[keyof typeof MqttErrorCode];

const RETRYABLE: ReadonlySet<MqttErrorCodeValue> = new Set([MqttErrorCode.connectTimeout, MqttErrorCode.pingTimeout, MqttErrorCode.inflightFull, MqttErrorCode.connectionClosed]);

export class MqttError extends Error {
  readonly retry: boolean;

  constructor(
    readonly code: MqttErrorCodeValue,
    message: string,
  ) {
    super(message);
    this.name = 'MqttError';
    this.retry = RETRYABLE.has(code);
  }
}
