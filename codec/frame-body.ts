/** Turning a decoded frame's body into a validated value: decompress if flagged, then msgpack + schema. */
import { ErrorCode, ProtocolError } from '../protocol/errors.ts';
import type { FieldType } from '../protocol/schema.ts';
import { decodeBody, decodeMsgpack } from './body-codec.ts';
import { isCompressed, type Frame } from './frame.ts';
import { decompress } from './lz4-block.ts';

/** The frame's msgpack bytes, decompressed when the LZ4 flag is set. Throws badCompression. */
export function plainBody(frame: Frame): Buffer {
  if (!isCompressed(frame)) return frame.body;
  const raw = decompress(frame.body, frame.rawLength);
  if (!raw) throw new ProtocolError(ErrorCode.badCompression, `LZ4 block does not decode to ${frame.rawLength} bytes`);
  return raw;
}

export function readBody<T>(frame: Frame, schema: FieldType<T>): T {
  return decodeBody(schema, plainBody(frame));
}

export function readRawBody(frame: Frame): unknown {
  return decodeMsgpack(plainBody(frame));
}
