/**
 * Frame encoding. The body is encoded once by the shared msgpack encoder and copied (or LZ4-
 * compressed) straight into a buffer that already reserves the 16 header bytes, so a frame costs
 * one allocation and no concatenation.
 *
 * For fan-out, `prepareBody` encodes a body once and `frameHeader` writes a 16-byte header per
 * receiver (each with its own SID): write the two with `socket.cork()` / `writev`, and the body
 * bytes are shared by every receiver.
 */
import { DEFAULT_COMPRESS_THRESHOLD, FrameFlag, HEADER_SIZE, HeaderOffset, PROTOCOL_VERSION } from '../protocol/header.ts';
import type { FieldType } from '../protocol/schema.ts';
import { encodeShared } from './body-codec.ts';
import { compressBound, compressInto } from './lz4-block.ts';

export interface EncodeOptions {
  /** Bodies of at least this many bytes are LZ4-compressed when that makes them smaller; Infinity disables. */
  readonly compressThreshold?: number;
  /**
   * The largest frame (header included) and decompressed body the sender advertised. A frame
   * above either is never written: encoding throws OversizedFrameError instead, since a peer
   * must refuse such a frame and would drop the connection over it.
   */
  readonly maxFrameSize?: number;
  readonly maxRawBodySize?: number;
}

/** A frame the encoder refused to produce because it exceeds the advertised limits: a sender's bug. */
export class OversizedFrameError extends Error {
  constructor(
    readonly opcode: number | undefined,
    readonly length: number,
    readonly rawLength: number,
  ) {
    const what = opcode === undefined ? 'a prepared body' : `opcode 0x${opcode.toString(16)}`;
    super(`refusing to encode ${what}: frame ${length} bytes, body ${rawLength} bytes, above the advertised limits`);
    this.name = 'OversizedFrameError';
  }
}

function checkSize(opcode: number | undefined, length: number, rawLength: number, options: EncodeOptions): void {
  if (length > (options.maxFrameSize ?? Infinity) || rawLength > (options.maxRawBodySize ?? Infinity)) throw new OversizedFrameError(opcode, length, rawLength);
}

/** An encoded body that can be framed for many receivers without being encoded again. */
export interface PreparedBody {
  readonly bytes: Buffer;
  readonly flags: number;
  readonly rawLength: number;
}

export function writeHeader(target: Buffer, length: number, opcode: number, requestId: number, flags: number, rawLength: number): void {
  target.writeUInt32BE(length, HeaderOffset.length);
  target[HeaderOffset.version] = PROTOCOL_VERSION;
  target[HeaderOffset.flags] = flags;
  target.writeUInt16BE(opcode, HeaderOffset.opcode);
  target.writeUInt32BE(requestId >>> 0, HeaderOffset.requestId);
  target.writeUInt32BE(rawLength, HeaderOffset.rawLength);
}

/** Frames already-encoded msgpack bytes, compressing them when worthwhile. */
export function frameBytes(opcode: number, requestId: number, body: Uint8Array, options: EncodeOptions = {}): Buffer {
  const threshold = options.compressThreshold ?? DEFAULT_COMPRESS_THRESHOLD;
  if (body.length >= threshold) {
    const compressed = tryCompress(body, HEADER_SIZE);
    if (compressed) {
      checkSize(opcode, compressed.length, body.length, options);
      writeHeader(compressed, compressed.length, opcode, requestId, FrameFlag.lz4, body.length);
      return compressed;
    }
  }
  checkSize(opcode, HEADER_SIZE + body.length, 0, options);
  const frame = Buffer.allocUnsafe(HEADER_SIZE + body.length);
  frame.set(body, HEADER_SIZE);
  writeHeader(frame, frame.length, opcode, requestId, 0, 0);
  return frame;
}

/** Encodes and frames a body described by its schema. */
export function encodeFrame<T>(opcode: number, requestId: number, schema: FieldType<T>, body: T, options?: EncodeOptions): Buffer {
  return frameBytes(opcode, requestId, encodeShared(schema.toWire(body)), options);
}

/** Encodes a body once for many receivers (see frameHeader). */
export function prepareBody<T>(schema: FieldType<T>, body: T, options: EncodeOptions = {}): PreparedBody {
  return prepareEncoded(encodeShared(schema.toWire(body)), options);
}

/** Prepares msgpack bytes encoded elsewhere for many receivers, compressing them when worthwhile. */
export function prepareEncoded(encoded: Uint8Array, options: EncodeOptions = {}): PreparedBody {
  const threshold = options.compressThreshold ?? DEFAULT_COMPRESS_THRESHOLD;
  if (encoded.length >= threshold) {
    const compressed = tryCompress(encoded, 0);
    if (compressed) {
      checkSize(undefined, HEADER_SIZE + compressed.length, encoded.length, options);
      return { bytes: compressed, flags: FrameFlag.lz4, rawLength: encoded.length };
    }
  }
  checkSize(undefined, HEADER_SIZE + encoded.length, 0, options);
  return { bytes: Buffer.from(encoded), flags: 0, rawLength: 0 };
}

/** The 16-byte header that, followed by `prepared.bytes`, forms one frame. */
export function frameHeader(opcode: number, requestId: number, prepared: PreparedBody): Buffer {
  const header = Buffer.allocUnsafe(HEADER_SIZE);
  writeHeader(header, HEADER_SIZE + prepared.bytes.length, opcode, requestId, prepared.flags, prepared.rawLength);
  return header;
}

/** Compresses into a buffer with `reserve` bytes free in front; undefined when it saves nothing. */
function tryCompress(body: Uint8Array, reserve: number): Buffer | undefined {
  const input = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.length);
  const out = Buffer.allocUnsafe(reserve + compressBound(input.length));
  const size = compressInto(input, out, reserve);
  if (size === 0 || size >= input.length) return undefined;
  return out.subarray(0, reserve + size);
}
