/**
 * The approaches our codec is measured against. They are deliberately the common ones, not
 * strawmen: each does what many servers ship.
 */
import { StringDecoder } from 'node:string_decoder';
import { encode } from '@msgpack/msgpack';
import { writeHeader, type Frame, type FrameSink } from '../../codec/index.ts';
import { HEADER_SIZE, HeaderOffset } from '../../protocol/header.ts';

/**
 * Length-prefixed framing that appends every read to one pending buffer with Buffer.concat and
 * slices whole frames off its front. Every read copies the partial frame left over from the
 * last one, so a large frame arriving in many reads is copied many times.
 */
export class ConcatDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, sink: FrameSink): void {
    let pending = Buffer.concat([this.pending, chunk]);
    while (pending.length >= HEADER_SIZE) {
      const length = pending.readUInt32BE(HeaderOffset.length);
      if (pending.length < length) break;
      sink(headerOf(pending.subarray(0, length)));
      pending = pending.subarray(length);
    }
    this.pending = pending;
  }
}

/** The same fields FrameDecoder hands out, without its checks on version, flags and lengths. */
function headerOf(bytes: Buffer): Frame {
  return {
    version: bytes[HeaderOffset.version] as number,
    flags: bytes[HeaderOffset.flags] as number,
    opcode: bytes.readUInt16BE(HeaderOffset.opcode),
    requestId: bytes.readUInt32BE(HeaderOffset.requestId),
    rawLength: bytes.readUInt32BE(HeaderOffset.rawLength),
    body: bytes.subarray(HEADER_SIZE),
  };
}

/**
 * Newline-delimited JSON: decode reads to text (a StringDecoder keeps characters split across
 * reads whole, as `socket.setEncoding('utf8')` does), append, split on '\n', keep the tail.
 */
export class JsonLinesDecoder {
  private readonly text = new StringDecoder('utf8');
  private pending = '';

  push(chunk: Buffer, sink: (line: string) => void): void {
    const lines = (this.pending + this.text.write(chunk)).split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) sink(line);
  }
}

/** One JSON line for a frame: opcode, request id and the body with its field names. */
export function jsonLine(opcode: number, requestId: number, body: unknown): string {
  return `${JSON.stringify({ op: opcode, id: requestId, body })}\n`;
}

/** Encodes with a fresh encoder per call, then allocates the header and concatenates: three buffers, two copies. */
export function concatFrame(opcode: number, requestId: number, wire: unknown): Buffer {
  const body = Buffer.from(encode(wire));
  const header = Buffer.allocUnsafe(HEADER_SIZE);
  writeHeader(header, HEADER_SIZE + body.length, opcode, requestId, 0, 0);
  return Buffer.concat([header, body]);
}

/** As concatFrame but with an already-encoded body, to separate the cost of the copies from that of the encoder. */
export function concatEncoded(opcode: number, requestId: number, body: Uint8Array): Buffer {
  const header = Buffer.allocUnsafe(HEADER_SIZE);
  writeHeader(header, HEADER_SIZE + body.length, opcode, requestId, 0, 0);
  return Buffer.concat([header, body]);
}
