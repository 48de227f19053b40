import type { Prng } from './prng.ts';

/**
 * Cuts a byte stream into consecutive pieces of random length in [min, max], the way a socket
 * hands over reads of whatever the kernel had buffered. Each piece is a copy in its own buffer,
 * as socket reads are, so that no piece shares memory with its neighbours.
 */
export function chop(stream: Buffer, prng: Prng, min: number, max: number): Buffer[] {
  if (!(min >= 1 && max >= min)) throw new RangeError(`read sizes need 1 ≤ min ≤ max, got ${min}..${max}`);
  const chunks: Buffer[] = [];
  for (let start = 0; start < stream.length; ) {
    const end = Math.min(stream.length, start + min + prng.below(max - min + 1));
    chunks.push(Buffer.from(stream.subarray(start, end)));
    start = end;
  }
  return chunks;
}
