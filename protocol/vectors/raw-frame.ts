import { HEADER_SIZE, HeaderOffset, PROTOCOL_VERSION } from '../header.ts';
import type { RawFrame } from './samples.ts';

/** Builds a frame byte by byte, without the encoder's checks, so that vectors can be malformed on purpose. */
export function rawFrameHex(frame: RawFrame): string {
  const body = Buffer.from(frame.body, 'hex');
  const bytes = Buffer.alloc(HEADER_SIZE + body.length);
  bytes.writeUInt32BE(frame.length ?? bytes.length, HeaderOffset.length);
  bytes[HeaderOffset.version] = frame.version ?? PROTOCOL_VERSION;
  bytes[HeaderOffset.flags] = frame.flags ?? 0;
  bytes.writeUInt16BE(frame.opcode, HeaderOffset.opcode);
  bytes.writeUInt32BE(frame.requestId, HeaderOffset.requestId);
  bytes.writeUInt32BE(frame.rawLength ?? 0, HeaderOffset.rawLength);
  body.copy(bytes, HEADER_SIZE);
  return bytes.toString('hex');
}
