/**
 * Streaming frame decoder. Received chunks are kept as a list; a frame that lies inside one chunk
 * is handed out as a view (`subarray`) with no copy, and only a frame that spans chunks is copied
 * into one buffer. The announced length is checked against the maximum from the first four bytes,
 * before anything is allocated or buffered beyond one read.
 *
 * Bad input never throws: `push` returns a ProtocolError, the decoder stays failed, and the owner
 * closes the connection (framing errors cannot be resynchronised on a byte stream).
 */
import { ErrorCode, ProtocolError } from '../protocol/errors.ts';
import {
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_MAX_RAW_BODY_SIZE,
  FrameFlag,
  HEADER_SIZE,
  HeaderOffset,
  KNOWN_FLAGS,
  PROTOCOL_VERSION,
} from '../protocol/header.ts';
import type { Frame } from './frame.ts';

export interface FrameDecoderOptions {
  readonly maxFrameSize?: number;
  readonly maxRawBodySize?: number;
}

export interface FrameDecoderStats {
  frames: number;
  /** Frames that spanned chunks and had to be copied into one buffer. */
  copiedFrames: number;
  copiedBytes: number;
}

export type FrameSink = (frame: Frame) => void;

export class FrameDecoder {
  readonly stats: FrameDecoderStats = { frames: 0, copiedFrames: 0, copiedBytes: 0 };
  private readonly maxFrameSize: number;
  private readonly maxRawBodySize: number;
  private chunks: Buffer[] = [];
  /** Read offset into chunks[0]. */
  private offset = 0;
  private buffered = 0;
  private failure: ProtocolError | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    this.maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    this.maxRawBodySize = options.maxRawBodySize ?? DEFAULT_MAX_RAW_BODY_SIZE;
  }

  /** Bytes received but not yet handed out as frames. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  get failed(): ProtocolError | undefined {
    return this.failure;
  }

  /** Feeds one received chunk; calls `sink` for every complete frame. Returns the error that stopped decoding, if any. */
  push(chunk: Buffer, sink: FrameSink): ProtocolError | undefined {
    if (this.failure) return this.failure;
    if (chunk.length === 0) return undefined;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      const length = this.peekUint32(HeaderOffset.length);
      const lengthError = this.checkLength(length);
      if (lengthError) return this.fail(lengthError);
      if (this.buffered < length) break;
      const frameOrError = this.next(length);
      if (frameOrError instanceof ProtocolError) return this.fail(frameOrError);
      this.stats.frames++;
      sink(frameOrError);
      if (this.failure) return this.failure;
    }
    return undefined;
  }

  private checkLength(length: number): ProtocolError | undefined {
    if (length < HEADER_SIZE) return new ProtocolError(ErrorCode.badLength, `frame length ${length} is below the ${HEADER_SIZE}-byte header`);
    if (length > this.maxFrameSize) {
      return new ProtocolError(ErrorCode.frameTooLarge, `frame length ${length} exceeds the maximum of ${this.maxFrameSize}`);
    }
    return undefined;
  }

  /** The next frame of `length` bytes: parsed in place when it lies in the first chunk, else from one copy. */
  private next(length: number): Frame | ProtocolError {
    const first = this.chunks[0] as Buffer;
    const at = this.offset;
    const available = first.length - at;
    if (length > available) return this.parse(this.copyOut(length), 0, length);
    const frame = this.parse(first, at, length);
    this.advanceFirst(length, available);
    return frame;
  }

  private parse(bytes: Buffer, at: number, length: number): Frame | ProtocolError {
    const version = bytes[at + HeaderOffset.version] as number;
    if (version !== PROTOCOL_VERSION) return new ProtocolError(ErrorCode.badVersion, `protocol version ${version} is not supported`);
    const flags = bytes[at + HeaderOffset.flags] as number;
    if ((flags & ~KNOWN_FLAGS) !== 0) return new ProtocolError(ErrorCode.badFlags, `unknown flag bits 0x${flags.toString(16)}`);
    const rawLength = bytes.readUInt32BE(at + HeaderOffset.rawLength);
    if ((flags & FrameFlag.lz4) === 0) {
      if (rawLength !== 0) return new ProtocolError(ErrorCode.badFlags, 'raw length is set on an uncompressed frame');
    } else if (rawLength > this.maxRawBodySize) {
      return new ProtocolError(ErrorCode.badCompression, `raw length ${rawLength} exceeds the maximum of ${this.maxRawBodySize}`);
    }
    return {
      version,
      flags,
      opcode: bytes.readUInt16BE(at + HeaderOffset.opcode),
      requestId: bytes.readUInt32BE(at + HeaderOffset.requestId),
      rawLength,
      body: bytes.subarray(at + HEADER_SIZE, at + length),
    };
  }

  /** Reads a big-endian u32 at `at` bytes past the read offset, across chunk boundaries. */
  private peekUint32(at: number): number {
    const first = this.chunks[0] as Buffer;
    const start = this.offset + at;
    if (start + 4 <= first.length) return first.readUInt32BE(start);
    let value = 0;
    for (let i = 0; i < 4; i++) value = value * 256 + this.peekByte(at + i);
    return value;
  }

  private peekByte(at: number): number {
    let index = this.offset + at;
    for (const chunk of this.chunks) {
      if (index < chunk.length) return chunk[index] as number;
      index -= chunk.length;
    }
    return 0;
  }

  /** Removes `length` buffered bytes that span chunks, copied into one buffer. */
  private copyOut(length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    let written = 0;
    while (written < length) {
      const chunk = this.chunks[0] as Buffer;
      const left = chunk.length - this.offset;
      const n = Math.min(left, length - written);
      chunk.copy(out, written, this.offset, this.offset + n);
      written += n;
      this.advanceFirst(n, left);
    }
    this.stats.copiedFrames++;
    this.stats.copiedBytes += length;
    return out;
  }

  private advanceFirst(n: number, available: number): void {
    this.buffered -= n;
    if (n === available) {
      this.chunks.shift();
      this.offset = 0;
    } else {
      this.offset += n;
    }
  }

  private fail(error: ProtocolError): ProtocolError {
    this.failure = error;
    this.chunks = [];
    this.offset = 0;
    this.buffered = 0;
    return error;
  }
}
