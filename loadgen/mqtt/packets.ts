/**
 * The part of MQTT 3.1.1 (OASIS standard, 2014) the load generator speaks: connect, subscribe,
 * publish at QoS 0 and 1, keepalive and disconnect. QoS 2 and unsubscribe are not needed to
 * measure a broker as a 1:1 message relay, so the parser refuses them as unsupported.
 */

/** Control packet types, the high nibble of the first byte (section 2.2.1). */
export const PacketType = {
  connect: 1,
  connack: 2,
  publish: 3,
  puback: 4,
  subscribe: 8,
  suback: 9,
  pingreq: 12,
  pingresp: 13,
  disconnect: 14,
} as const;

/** Low-nibble flags each type must carry (section 2.2.2); PUBLISH's are DUP, QoS and RETAIN. */
export const REQUIRED_FLAGS: Readonly<Record<number, number>> = {
  [PacketType.connect]: 0,
  [PacketType.connack]: 0,
  [PacketType.puback]: 0,
  [PacketType.subscribe]: 0b0010,
  [PacketType.suback]: 0,
  [PacketType.pingreq]: 0,
  [PacketType.pingresp]: 0,
  [PacketType.disconnect]: 0,
};

export const PublishFlag = { dup: 0b1000, qosShift: 1, qosMask: 0b0110, retain: 0b0001 } as const;

export const ConnectFlag = { cleanSession: 0b0000_0010 } as const;

export const PROTOCOL_NAME = 'MQTT';
export const PROTOCOL_LEVEL = 4;

/** The remaining length is at most four 7-bit groups (section 2.2.3). */
export const MAX_REMAINING_LENGTH = 268_435_455;

/** CONNACK return codes (section 3.2.2.3). */
export const ConnackCode = {
  accepted: 0,
  badProtocolVersion: 1,
  identifierRejected: 2,
  serverUnavailable: 3,
  badCredentials: 4,
  notAuthorized: 5,
} as const;

/** A SUBACK return code that refuses the subscription (section 3.9.3). */
export const SUBACK_FAILURE = 0x80;

export type QoS = 0 | 1;

export interface ConnectPacket {
  readonly type: 'connect';
  readonly clientId: string;
  readonly cleanSession: boolean;
  readonly keepAliveSeconds: number;
}

export interface ConnackPacket {
  readonly type: 'connack';
  readonly sessionPresent: boolean;
  readonly returnCode: number;
}

export interface PublishPacket {
  readonly type: 'publish';
  readonly topic: string;
  readonly qos: QoS;
  readonly dup: boolean;
  readonly retain: boolean;
  /** 0 at QoS 0, which carries no packet identifier. */
  readonly packetId: number;
  /** A view over the received chunk, or a copy when the packet spanned chunks. */
  readonly payload: Buffer;
}

export interface PubackPacket {
  readonly type: 'puback';
  readonly packetId: number;
}

export interface SubscribePacket {
  readonly type: 'subscribe';
  readonly packetId: number;
  readonly subscriptions: readonly { readonly topic: string; readonly qos: QoS }[];
}

export interface SubackPacket {
  readonly type: 'suback';
  readonly packetId: number;
  /** Granted QoS per requested filter, or SUBACK_FAILURE. */
  readonly returnCodes: readonly number[];
}

export interface EmptyPacket {
  readonly type: 'pingreq' | 'pingresp' | 'disconnect';
}

export type Packet = ConnectPacket | ConnackPacket | PublishPacket | PubackPacket | SubscribePacket | SubackPacket | EmptyPacket;
