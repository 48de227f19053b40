/**
 * One packet's bytes → a typed packet. The fixed header has been read by the parser; this checks
 * the flags each type must carry and every length inside the body, so a short or padded body is
 * a malformed packet, never an out-of-range read.
 */
import { MqttError, MqttErrorCode } from './errors.ts';
import { ConnectFlag, PacketType, PROTOCOL_LEVEL, PROTOCOL_NAME, PublishFlag, REQUIRED_FLAGS, SUBACK_FAILURE, type Packet, type QoS } from './packets.ts';

const malformed = (why: string) => new MqttError(MqttErrorCode.malformed, `malformed packet: ${why}`);
const unsupported = (why: string) => new MqttError(MqttErrorCode.unsupported, why);

class BodyReader {
  private at = 0;

  constructor(private readonly body: Buffer) {}

  get left(): number {
    return this.body.length - this.at;
  }

  u8(): number {
    if (this.left < 1) throw malformed('body ends inside a byte field');
    return this.body[this.at++] as number;
  }

  u16(): number {
    if (this.left < 2) throw malformed('body ends inside a two-byte field');
    const v = this.body.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }

  string(): string {
    const bytes = this.u16();
    if (this.left < bytes) throw malformed('a string runs past the end of the body');
    const s = this.body.toString('utf8', this.at, this.at + bytes);
    this.at += bytes;
    return s;
  }

  packetId(): number {
    const id = this.u16();
    if (id === 0) throw malformed('packet identifier 0');
    return id;
  }

  rest(): Buffer {
    const view = this.body.subarray(this.at);
    this.at = this.body.length;
    return view;
  }

  end(what: string): void {
    if (this.left !== 0) throw malformed(`${this.left} bytes after the end of a ${what}`);
  }
}

export function decodePacket(firstByte: number, body: Buffer): Packet {
  const type = firstByte >> 4;
  const flags = firstByte & 0x0f;
  const required = REQUIRED_FLAGS[type];
  if (required !== undefined && flags !== required) throw malformed(`type ${type} with flags ${flags.toString(2)}`);
  const r = new BodyReader(body);
  switch (type) {
    case PacketType.connect:
      return decodeConnect(r);
    case PacketType.connack: {
      const ackFlags = r.u8();
      if (ackFlags & 0xfe) throw malformed('reserved CONNACK flags set');
      const returnCode = r.u8();
      r.end('CONNACK');
      return { type: 'connack', sessionPresent: ackFlags === 1, returnCode };
    }
    case PacketType.publish:
      return decodePublish(flags, r);
    case PacketType.puback: {
      const packetId = r.packetId();
      r.end('PUBACK');
      return { type: 'puback', packetId };
    }
    case PacketType.subscribe:
      return decodeSubscribe(r);
    case PacketType.suback: {
      const packetId = r.packetId();
      const returnCodes = [...r.rest()];
      if (returnCodes.length === 0) throw malformed('SUBACK without return codes');
      if (returnCodes.some((c) => c > 2 && c !== SUBACK_FAILURE)) throw malformed('SUBACK return code outside 0, 1, 2, 0x80');
      return { type: 'suback', packetId, returnCodes };
    }
    case PacketType.pingreq:
    case PacketType.pingresp:
    case PacketType.disconnect: {
      const name = type === PacketType.pingreq ? 'pingreq' : type === PacketType.pingresp ? 'pingresp' : 'disconnect';
      r.end(name.toUpperCase());
      return { type: name };
    }
    case 0:
    case 15:
      throw malformed(`reserved packet type ${type}`);
    default:
      throw unsupported(`packet type ${type} (QoS 2 and unsubscribe are not implemented)`);
  }
}

function decodePublish(flags: number, r: BodyReader): Packet {
  const qos = (flags & PublishFlag.qosMask) >> PublishFlag.qosShift;
  const dup = (flags & PublishFlag.dup) !== 0;
  if (qos === 3) throw malformed('PUBLISH with QoS 3');
  if (qos === 2) throw unsupported('PUBLISH at QoS 2');
  if (qos === 0 && dup) throw malformed('DUP set on a QoS 0 PUBLISH');
  const topic = r.string();
  const packetId = qos > 0 ? r.packetId() : 0;
  return { type: 'publish', topic, qos: qos as QoS, dup, retain: (flags & PublishFlag.retain) !== 0, packetId, payload: r.rest() };
}

function decodeSubscribe(r: BodyReader): Packet {
  const packetId = r.packetId();
  const subscriptions: { topic: string; qos: QoS }[] = [];
  while (r.left > 0) {
    const topic = r.string();
    const qos = r.u8();
    if (qos > 2) throw malformed('SUBSCRIBE requested QoS above 2');
    if (qos === 2) throw unsupported('SUBSCRIBE at QoS 2');
    subscriptions.push({ topic, qos: qos as QoS });
  }
  if (subscriptions.length === 0) throw malformed('SUBSCRIBE without a topic filter');
  return { type: 'subscribe', packetId, subscriptions };
}

function decodeConnect(r: BodyReader): Packet {
  if (r.string() !== PROTOCOL_NAME) throw malformed('CONNECT protocol name is not MQTT');
  if (r.u8() !== PROTOCOL_LEVEL) throw unsupported('CONNECT protocol level other than 4 (3.1.1)');
  const flags = r.u8();
  if (flags & 1) throw malformed('reserved CONNECT flag set');
  if (flags & ~ConnectFlag.cleanSession) throw unsupported('CONNECT with will, user name or password');
  const keepAliveSeconds = r.u16();
  const clientId = r.string();
  r.end('CONNECT');
  return { type: 'connect', clientId, cleanSession: (flags & ConnectFlag.cleanSession) !== 0, keepAliveSeconds };
}
