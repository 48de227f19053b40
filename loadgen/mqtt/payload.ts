/**
 * The payload of a load-run PUBLISH: what the tern server adds to a message (a unique id, a
 * sequence for the order check, the send time), carried by the sender because a broker adds
 * nothing. Layout, big-endian:
 *
 *   0   u8   format version (1)
 *   1   u32  seq, per sending device and partner
 *   5   f64  sentAt, ms since the epoch
 *   13  u8 + bytes  messageId   · u8 + bytes  from (user)   · u8 + bytes  fromDevice
 *   …   content (UTF-8) to the end
 */
import { MqttError, MqttErrorCode } from './errors.ts';

export const PAYLOAD_VERSION = 1;

const Offset = { version: 0, seq: 1, sentAt: 5, strings: 13 } as const;

export interface LoadMessage {
  readonly messageId: string;
  readonly from: string;
  readonly fromDevice: string;
  readonly seq: number;
  readonly sentAt: number;
  readonly content: string;
}

const bad = (why: string) => new MqttError(MqttErrorCode.badPayload, `load payload: ${why}`);

export function encodeLoadMessage(m: LoadMessage): Buffer {
  const ids = [m.messageId, m.from, m.fromDevice].map((s) => Buffer.from(s, 'utf8'));
  for (const id of ids) if (id.length > 0xff) throw new RangeError('load payload ids are at most 255 bytes');
  const contentBytes = Buffer.byteLength(m.content, 'utf8');
  const buf = Buffer.allocUnsafe(Offset.strings + ids.reduce((n, b) => n + 1 + b.length, 0) + contentBytes);
  buf[Offset.version] = PAYLOAD_VERSION;
  buf.writeUInt32BE(m.seq, Offset.seq);
  buf.writeDoubleBE(m.sentAt, Offset.sentAt);
  let at = Offset.strings;
  for (const id of ids) {
    buf[at++] = id.length;
    buf.set(id, at);
    at += id.length;
  }
  buf.write(m.content, at, contentBytes, 'utf8');
  return buf;
}

export function decodeLoadMessage(buf: Buffer): LoadMessage {
  if (buf.length < Offset.strings) throw bad(`${buf.length} bytes is shorter than the fixed part`);
  if (buf[Offset.version] !== PAYLOAD_VERSION) throw bad(`version ${buf[Offset.version]}`);
  let at = Offset.strings;
  const id = () => {
    const length = buf[at];
    if (length === undefined || at + 1 + length > buf.length) throw bad('an id runs past the end');
    const s = buf.toString('utf8', at + 1, at + 1 + length);
    at += 1 + length;
    return s;
  };
  const messageId = id();
  const from = id();
  const fromDevice = id();
  return { messageId, from, fromDevice, seq: buf.readUInt32BE(Offset.seq), sentAt: buf.readDoubleBE(Offset.sentAt), content: buf.toString('utf8', at) };
}
