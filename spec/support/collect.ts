import { FrameDecoder, type Frame } from '../../codec/index.ts';
import type { ProtocolError } from '../../protocol/errors.ts';

export interface Collected {
  frames: Frame[];
  error: ProtocolError | undefined;
  decoder: FrameDecoder;
}

/** Feeds the chunks in order into a fresh decoder and collects what comes out. */
export function decodeChunks(chunks: Buffer[], decoder = new FrameDecoder()): Collected {
  const frames: Frame[] = [];
  let error: ProtocolError | undefined;
  for (const chunk of chunks) {
    error = decoder.push(chunk, (frame) => frames.push(frame));
    if (error) break;
  }
  return { frames, error, decoder };
}

/** Splits a buffer at the given cut points (sorted, distinct, inside the buffer). */
export function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (const cut of cuts) {
    parts.push(bytes.subarray(start, cut));
    start = cut;
  }
  parts.push(bytes.subarray(start));
  return parts;
}
