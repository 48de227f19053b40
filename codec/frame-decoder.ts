/**
 * Streaming frame decoder. A frame that lies inside one received chunk is handed out as a view
 * (`subarray`) with no copy. A frame that spans chunks is assembled into one buffer allocated at
 * its announced length once its 16-byte header is in, and every later chunk is copied into it
 * once: no list of chunks is kept, so a peer that writes one byte at a time costs one copy per
 * byte and at most one frame of memory, not a Buffer and a list operation per read.
 *
 * The header is checked as soon as it is complete (the length from its first four bytes), before
 * anything is allocated for the body. Bad input never throws: `push` returns a ProtocolError,
 * the decoder stays failed, and the owner closes the connection (framing errors cannot be
 * resynchronised on a byte stream).
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
  /** The frame being assembled across chunks, allocated at its announced length. */
  private partial: Buffer | undefined;
  /** Bytes of `partial` (or, before it exists, of `header`) filled so far. */
  private filled = 0;
  /** A header that arrived split over chunks; the frame buffer is allocated once it is whole. */
  private readonly header = Buffer.alloc(HEADER_SIZE);
  private failure: ProtocolError | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    this.maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    this.maxRawBodySize = options.maxRawBodySize ?? DEFAULT_MAX_RAW_BODY_SIZE;
  }

  /** Bytes received but not yet handed out as frames. */
  get bufferedBytes(): number {
    return this.filled;
  }

  get failed(): ProtocolError | undefined {
    return this.failure;
  }

  /** Feeds one received chunk; calls `sink` for every complete frame. Returns the error that stopped decoding, if any. */
  push(chunk: Buffer, sink: FrameSink): ProtocolError | undefined {
    if (this.failure) return this.failure;
    let at = 0;
    while (at < chunk.length) {
      if (this.partial) at = this.fillPartial(chunk, at);
      else if (this.filled > 0) at = this.fillHeader(chunk, at);
      else at = this.fromChunk(chunk, at);
      if (this.failure) return this.failure;
      if (this.ready) {
        const frame = this.ready;
        this.ready = undefined;
        this.stats.frames++;
        sink(frame);
        if (this.failure) return this.failure;
      }
    }
    return undefined;
  }

  /** Set by a step that completed a frame; `push` hands it to the sink. */
  private ready: Frame | undefined;

  /** At a frame boundary: a whole frame in the chunk is a view; a partial one starts assembly. */
  private fromChunk(chunk: Buffer, at: number): number {
    const left = chunk.length - at;
    if (left < HEADER_SIZE) {
      if (left >= 4 && !this.lengthOk(chunk.readUInt32BE(at + HeaderOffset.length))) return chunk.length;
      chunk.copy(this.header, 0, at);
      this.filled = left;
      return chunk.length;
    }
    const length = chunk.readUInt32BE(at + HeaderOffset.length);
    if (!this.lengthOk(length) || !this.headerOk(chunk, at)) return chunk.length;
    if (length <= left) {
      this.ready = this.frameAt(chunk, at, length);
      return at + length;
    }
    this.partial = Buffer.allocUnsafe(length);
    chunk.copy(this.partial, 0, at);
    this.filled = left;
    return chunk.length;
  }

  /** Completes a header that spans chunks, checking the length as soon as its four bytes are in. */
  private fillHeader(chunk: Buffer, at: number): number {
    const n = Math.min(HEADER_SIZE - this.filled, chunk.length - at);
    const hadLength = this.filled >= 4;
    chunk.copy(this.header, this.filled, at, at + n);
    this.filled += n;
    if (!hadLength && this.filled >= 4 && !this.lengthOk(this.header.readUInt32BE(HeaderOffset.length))) return chunk.length;
    if (this.filled < HEADER_SIZE) return at + n;
    if (!this.headerOk(this.header, 0)) return chunk.length;
    const length = this.header.readUInt32BE(HeaderOffset.length);
    this.partial = Buffer.allocUnsafe(length);
    this.header.copy(this.partial);
    if (length === HEADER_SIZE) this.complete();
    return at + n;
  }

  private fillPartial(chunk: Buffer, at: number): number {
    const partial = this.partial as Buffer;
    const n = Math.min(partial.length - this.filled, chunk.length - at);
    chunk.copy(partial, this.filled, at, at + n);
    this.filled += n;
    if (this.filled === partial.length) this.complete();
    return at + n;
  }

  private complete(): void {
    const partial = this.partial as Buffer;
    this.stats.copiedFrames++;
    this.stats.copiedBytes += partial.length;
    this.partial = undefined;
    this.filled = 0;
    this.ready = this.frameAt(partial, 0, partial.length);
  }

  private lengthOk(length: number): boolean {
    if (length < HEADER_SIZE) return this.fail(new ProtocolError(ErrorCode.badLength, `frame length ${length} is below the ${HEADER_SIZE}-byte header`));
    if (length > this.maxFrameSize) return this.fail(new ProtocolError(ErrorCode.frameTooLarge, `frame length ${length} exceeds the maximum of ${this.maxFrameSize}`));
    return true;
  }

  /** Version, flags and raw length, checked at 16 bytes, before the body is waited for. */
  private headerOk(bytes: Buffer, at: number): boolean {
    const version = bytes[at + HeaderOffset.version] as number;
    if (version !== PROTOCOL_VERSION) return this.fail(new ProtocolError(ErrorCode.badVersion, `protocol version ${version} is not supported`));
    const flags = bytes[at + HeaderOffset.flags] as number;
    if ((flags & ~KNOWN_FLAGS) !== 0) return this.fail(new ProtocolError(ErrorCode.badFlags, `unknown flag bits 0x${flags.toString(16)}`));
    const rawLength = bytes.readUInt32BE(at + HeaderOffset.rawLength);
    if ((flags & FrameFlag.lz4) === 0) {
      if (rawLength !== 0) return this.fail(new ProtocolError(ErrorCode.badFlags, 'raw length is set on an uncompressed frame'));
    } else if (rawLength > this.maxRawBodySize) {
      return this.fail(new ProtocolError(ErrorCode.badCompression, `raw length ${rawLength} exceeds the maximum of ${this.maxRawBodySize}`));
    }
    return true;
  }

  private frameAt(bytes: Buffer, at: number, length: number): Frame {
    return {
      version: bytes[at + HeaderOffset.version] as number,
      flags: bytes[at + HeaderOffset.flags] as number,
      opcode: bytes.readUInt16BE(at + HeaderOffset.opcode),
      requestId: bytes.readUInt32BE(at + HeaderOffset.requestId),
      rawLength: bytes.readUInt32BE(at + HeaderOffset.rawLength),
      body: bytes.subarray(at + HEADER_SIZE, at + length),
    };
  }

  private fail(error: ProtocolError): false {
    this.failure = error;
    this.partial = undefined;
    this.filled = 0;
    return false;
  }
}
