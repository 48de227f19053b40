/**
 * LZ4 blocks on a sync page: throughput of the block API the codec uses against gzip, and the
 * bytes each puts on the wire.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { encode } from '@msgpack/msgpack';
import { encodeShared } from '../../codec/index.ts';
import { compressBound, compressInto, decompress } from '../../codec/lz4-block.ts';
import { Bodies, type BodyOf } from '../../protocol/bodies.ts';
import { HEADER_SIZE } from '../../protocol/header.ts';
import type { Fact } from '../support/context.ts';
import { integer, ratio } from '../support/format.ts';
import { keep } from '../support/sink.ts';
import type { SuiteSpec } from '../support/suite.ts';

export const Lz4Case = {
  gzip: 'zlib.gzipSync, level 6 (default)',
  gzipFast: 'zlib.gzipSync, level 1',
  lz4: 'LZ4 block (compressInto)',
  gunzip: 'zlib.gunzipSync',
  lz4Decompress: 'LZ4 block (decompress)',
} as const;

export interface PageBodies {
  readonly entries: number;
  /** The page as the protocol sends it uncompressed: a positional msgpack array. */
  readonly raw: Buffer;
  readonly lz4: Buffer;
  readonly gzip: Buffer;
}

export function pageBodies(page: BodyOf<'syncPage'>): PageBodies {
  const raw = Buffer.from(encodeShared(Bodies.syncPage.toWire(page)));
  const out = Buffer.allocUnsafe(compressBound(raw.length));
  const lz4 = Buffer.from(out.subarray(0, compressInto(raw, out, 0)));
  if (!decompress(lz4, raw.length)?.equals(raw)) throw new Error('LZ4 block does not round-trip the page');
  return { entries: page.entries.length, raw, lz4, gzip: gzipSync(raw) };
}

export function compressSuite(page: PageBodies): SuiteSpec {
  const { raw } = page;
  const out = Buffer.allocUnsafe(compressBound(raw.length));
  return {
    title: `LZ4 · compress a ${page.entries}-entry sync page`,
    details: [`${raw.length} B of msgpack per op; MB/s counts uncompressed bytes`],
    baseline: Lz4Case.gzip,
    cases: [
      { name: Lz4Case.gzip, bytes: raw.length, fn: () => keep(gzipSync(raw)) },
      { name: Lz4Case.gzipFast, bytes: raw.length, fn: () => keep(gzipSync(raw, { level: 1 })) },
      { name: Lz4Case.lz4, bytes: raw.length, fn: () => keep(compressInto(raw, out, 0)) },
    ],
  };
}

export function decompressSuite(page: PageBodies): SuiteSpec {
  const { raw, lz4, gzip } = page;
  return {
    title: `LZ4 · decompress a ${page.entries}-entry sync page`,
    details: ['MB/s counts uncompressed bytes'],
    baseline: Lz4Case.gunzip,
    cases: [
      { name: Lz4Case.gunzip, bytes: raw.length, fn: () => keep(gunzipSync(gzip)) },
      { name: Lz4Case.lz4Decompress, bytes: raw.length, fn: () => keep(decompress(lz4, raw.length)) },
    ],
  };
}

/** Bytes on the wire for the page in each form; frames add the 16-byte header, JSON lines a newline. */
export function wireSizes(page: PageBodies, body: BodyOf<'syncPage'>): Fact {
  const base = page.raw.length;
  const row = (form: string, size: number, framing: number): string[] => [form, `${integer(size)} B`, `${integer(size + framing)} B`, ratio(size / base)];
  return {
    title: `bytes on the wire · ${page.entries}-entry sync page`,
    rows: [
      ['form', 'body', 'on the wire', 'vs msgpack'],
      row('msgpack, positional (uncompressed frame)', base, HEADER_SIZE),
      row('msgpack + LZ4 block (what the codec sends)', page.lz4.length, HEADER_SIZE),
      row('msgpack + gzip level 6', page.gzip.length, HEADER_SIZE),
      row('msgpack + gzip level 1', gzipSync(page.raw, { level: 1 }).length, HEADER_SIZE),
      row('msgpack, map with field names', encode(body).length, HEADER_SIZE),
      row('JSON', Buffer.byteLength(JSON.stringify(body)), 1),
    ],
  };
}
