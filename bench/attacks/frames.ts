/** Raw frames for the attacks, built byte by byte so that nothing on the client side validates them. */
import { compressBound, compressInto } from '../../codec/lz4-block.ts';
import { FrameFlag, HEADER_SIZE, HeaderOffset, PROTOCOL_VERSION } from '../../protocol/header.ts';

export function rawFrame(opcode: number, requestId: number, body: Buffer, flags = 0, rawLength = 0): Buffer {
  const frame = Buffer.alloc(HEADER_SIZE + body.length);
  frame.writeUInt32BE(frame.length, HeaderOffset.length);
  frame[HeaderOffset.version] = PROTOCOL_VERSION;
  frame[HeaderOffset.flags] = flags;
  frame.writeUInt16BE(opcode, HeaderOffset.opcode);
  frame.writeUInt32BE(requestId, HeaderOffset.requestId);
  frame.writeUInt32BE(rawLength, HeaderOffset.rawLength);
  body.copy(frame, HEADER_SIZE);
  return frame;
}

/** A frame whose body is `plain` as one LZ4 block. */
export function compressedFrame(opcode: number, requestId: number, plain: Buffer): Buffer {
  const out = Buffer.allocUnsafe(compressBound(plain.length));
  const size = compressInto(plain, out, 0);
  if (size === 0) throw new Error('LZ4 block does not fit');
  return rawFrame(opcode, requestId, out.subarray(0, size), FrameFlag.lz4, plain.length);
}

/** msgpack str 32 of `length` ASCII bytes. */
export function str32(length: number): Buffer {
  const out = Buffer.alloc(5 + length, 0x61);
  out[0] = 0xdb;
  out.writeUInt32BE(length, 1);
  return out;
}
