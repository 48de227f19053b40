/**
 * The LZ4 block format (no LZ4 frame header, no checksum) through the native `lz4` binding.
 * The frame API of that package allocates a 4 MiB zeroed block per call; blocks do not.
 */
import { createRequire } from 'node:module';

interface Lz4Binding {
  encodeBound(inputLength: number): number;
  /** Compresses `input` into `output[start..end)`; returns the compressed size, 0 when it does not fit. */
  encodeBlock(input: Buffer, output: Buffer, start?: number, end?: number): number;
  /** Decompresses `input` into `output`; returns the decompressed size, negative on corrupt input. */
  decodeBlock(input: Buffer, output: Buffer): number;
}

const lz4 = createRequire(import.meta.url)('lz4') as Lz4Binding;

export function compressBound(inputLength: number): number {
  return lz4.encodeBound(inputLength);
}

/** Writes the compressed form of `input` at `output[start..]`; returns its size, or 0 if it would not fit. */
export function compressInto(input: Buffer, output: Buffer, start: number): number {
  return lz4.encodeBlock(input, output, start, output.length);
}

/** Decompresses into a fresh buffer of exactly `rawLength` bytes, or returns undefined on any mismatch. */
export function decompress(input: Buffer, rawLength: number): Buffer | undefined {
  const output = Buffer.allocUnsafe(rawLength);
  if (input.length === 0) return rawLength === 0 ? output : undefined;
  const written = lz4.decodeBlock(input, output);
  return written === rawLength ? output : undefined;
}
