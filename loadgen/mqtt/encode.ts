/**
 * Packets → bytes. Each encoder computes the exact size first and allocates once; a PUBLISH is
 * kept encoded by the client so a resend after a reconnect costs one copy to set DUP.
 */
import { ConnectFlag, MAX_REMAINING_LENGTH, PacketType, PROTOCOL_LEVEL, PROTOCOL_NAME, PublishFlag, type QoS } from './packets.ts';

/** Bytes the variable-length remaining-length field takes for `n` (section 2.2.3). */
export function remainingLengthSize(n: number): number {
  if (n < 0 || n > MAX_REMAINING_LENGTH) throw new RangeError(`remaining length ${n} is outside 0–${MAX_REMAINING_LENGTH}`);
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x20_0000 ? 3 : 4;
}

/** Allocates a packet and writes its fixed header; returns the buffer and where the rest begins. */
function allocate(firstByte: number, remaining: number): { buf: Buffer; at: number } {
  const buf = Buffer.allocUnsafe(1 + remainingLengthSize(remaining) + remaining);
  buf[0] = firstByte;
  let at = 1;
  let n = remaining;
  do {
    let digit = n % 0x80;
    n = Math.floor(n / 0x80);
    if (n > 0) digit |= 0x80;
    buf[at++] = digit;
  } while (n > 0);
  return { buf, at };
}

function writeString(buf: Buffer, at: number, s: string, bytes: number): number {
  buf.writeUInt16BE(bytes, at);
  buf.write(s, at + 2, bytes, 'utf8');
  return at + 2 + bytes;
}

function stringBytes(s: string): number {
  const bytes = Buffer.byteLength(s, 'utf8');
  if (bytes > 0xffff) throw new RangeError(`an MQTT string holds at most 65,535 bytes, got ${bytes}`);
  return bytes;
}

export interface ConnectOptions {
  readonly clientId: string;
  readonly cleanSession: boolean;
  readonly keepAliveSeconds: number;
}

export function encodeConnect(o: ConnectOptions): Buffer {
  const nameBytes = stringBytes(PROTOCOL_NAME);
  const idBytes = stringBytes(o.clientId);
  const { buf, at } = allocate(PacketType.connect << 4, 2 + nameBytes + 1 + 1 + 2 + 2 + idBytes);
  let i = writeString(buf, at, PROTOCOL_NAME, nameBytes);
  buf[i++] = PROTOCOL_LEVEL;
  buf[i++] = o.cleanSession ? ConnectFlag.cleanSession : 0;
  buf.writeUInt16BE(o.keepAliveSeconds, i);
  writeString(buf, i + 2, o.clientId, idBytes);
  return buf;
}

export function encodeConnack(sessionPresent: boolean, returnCode: number): Buffer {
  return Buffer.from([PacketType.connack << 4, 2, sessionPresent ? 1 : 0, returnCode]);
}

export interface PublishOptions {
  readonly topic: string;
  readonly qos: QoS;
  /** Required (1–65535) at QoS 1; ignored at QoS 0. */
  readonly packetId?: number;
  readonly payload: Uint8Array;
  readonly dup?: boolean;
  readonly retain?: boolean;
}

export function encodePublish(o: PublishOptions): Buffer {
  const topicBytes = stringBytes(o.topic);
  const idBytes = o.qos > 0 ? 2 : 0;
  const flags = (o.dup ? PublishFlag.dup : 0) | (o.qos << PublishFlag.qosShift) | (o.retain ? PublishFlag.retain : 0);
  const { buf, at } = allocate((PacketType.publish << 4) | flags, 2 + topicBytes + idBytes + o.payload.length);
  let i = writeString(buf, at, o.topic, topicBytes);
  if (o.qos > 0) {
    const packetId = o.packetId ?? 0;
    if (packetId < 1 || packetId > 0xffff) throw new RangeError(`a QoS ${o.qos} PUBLISH needs a packet id within 1–65535, got ${packetId}`);
    buf.writeUInt16BE(packetId, i);
    i += 2;
  }
  buf.set(o.payload, i);
  return buf;
}

/** A copy of an encoded PUBLISH with DUP set, for the resend after a reconnect (section 4.4). */
export function withDup(publish: Buffer): Buffer {
  const copy = Buffer.from(publish);
  copy[0] = (copy[0] as number) | PublishFlag.dup;
  return copy;
}

function packetIdOnly(type: number, packetId: number): Buffer {
  return Buffer.from([type << 4, 2, packetId >> 8, packetId & 0xff]);
}

export function encodePuback(packetId: number): Buffer {
  return packetIdOnly(PacketType.puback, packetId);
}

export function encodeSubscribe(packetId: number, subscriptions: readonly { readonly topic: string; readonly qos: QoS }[]): Buffer {
  const sizes = subscriptions.map((s) => stringBytes(s.topic));
  const { buf, at } = allocate((PacketType.subscribe << 4) | 0b0010, 2 + sizes.reduce((n, b) => n + 2 + b + 1, 0));
  buf.writeUInt16BE(packetId, at);
  let i = at + 2;
  subscriptions.forEach((s, k) => {
    i = writeString(buf, i, s.topic, sizes[k] as number);
    buf[i++] = s.qos;
  });
  return buf;
}

export function encodeSuback(packetId: number, returnCodes: readonly number[]): Buffer {
  const { buf, at } = allocate(PacketType.suback << 4, 2 + returnCodes.length);
  buf.writeUInt16BE(packetId, at);
  buf.set(returnCodes, at + 2);
  return buf;
}

export const PINGREQ: Buffer = Buffer.from([PacketType.pingreq << 4, 0]);
export const PINGRESP: Buffer = Buffer.from([PacketType.pingresp << 4, 0]);
export const DISCONNECT: Buffer = Buffer.from([PacketType.disconnect << 4, 0]);
