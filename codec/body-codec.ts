/**
 * msgpack bodies through one shared @msgpack/msgpack Encoder and Decoder: reusing them avoids
 * re-allocating their internal buffers and caches per frame. Both are synchronous, so one pair
 * per process is safe.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import { DEFAULT_MAX_RAW_BODY_SIZE } from '../protocol/header.ts';
import { ErrorCode, ProtocolError } from '../protocol/errors.ts';
import type { FieldType } from '../protocol/schema.ts';
import { scanAny, scanBody } from './body-scan.ts';

const encoder = new Encoder({ initialBufferSize: 64 * 1024 });
const decoder = new Decoder({
  maxStrLength: DEFAULT_MAX_RAW_BODY_SIZE,
  maxBinLength: DEFAULT_MAX_RAW_BODY_SIZE,
  maxArrayLength: 65536,
  maxMapLength: 4096,
  maxExtLength: 0,
});

/**
 * Encodes a wire value and returns a view into the shared encoder's buffer. The view is valid
 * only until the next call: copy it (e.g. into a frame) before encoding anything else.
 */
export function encodeShared(wire: unknown): Uint8Array {
  return encoder.encodeSharedRef(wire);
}

/** Parses msgpack bytes without schema checks, within the scan's depth and UTF-8 bounds; malformed input becomes a badBody ProtocolError. */
export function decodeMsgpack(bytes: Uint8Array): unknown {
  scanAny(bytes);
  return parse(bytes);
}

function parse(bytes: Uint8Array): unknown {
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw new ProtocolError(ErrorCode.badBody, `body is not valid msgpack: ${(cause as Error).message}`);
  }
}

/** Scans the bytes against the schema's bounds, then parses and validates the body. */
export function decodeBody<T>(schema: FieldType<T>, bytes: Uint8Array): T {
  scanBody(bytes, schema.wire);
  return schema.check(parse(bytes), 'body');
}
