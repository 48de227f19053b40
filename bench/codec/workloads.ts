/**
 * The byte streams the decode benches read: the same frames as our binary protocol and as JSON
 * lines, each cut into reads of 1–16 KiB by the same seeded sequence of sizes.
 */
import { encode } from '@msgpack/msgpack';
import { encodeFrame } from '../../codec/index.ts';
import { Bodies, type BodyOf, type EntryRecord } from '../../protocol/bodies.ts';
import { HEADER_SIZE } from '../../protocol/header.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import type { FieldType } from '../../protocol/schema.ts';
import { jsonLine } from './baselines.ts';
import { chop } from '../support/chunks.ts';
import { Prng } from '../support/prng.ts';
import { pushEntries, syncPage } from './fixtures.ts';

const MIN_READ = 1024;
const MAX_READ = 16 * 1024;

export interface Stream {
  readonly chunks: readonly Buffer[];
  readonly bytes: number;
}

export interface DecodeWorkload<T> {
  /** Names the frames in suite titles, e.g. "small push frames". */
  readonly label: string;
  readonly schema: FieldType<T>;
  readonly values: readonly T[];
  readonly binary: Stream;
  readonly json: Stream;
  /** Each frame's body: views into the encoded frames. */
  readonly bodies: readonly Buffer[];
  /** The same bodies as msgpack maps with field names instead of positional arrays. */
  readonly mapBodies: readonly Buffer[];
}

export function totalLength(buffers: readonly Buffer[]): number {
  return buffers.reduce((sum, b) => sum + b.length, 0);
}

/** Frames are sent uncompressed so that a page frame keeps its full size on the wire. */
function buildWorkload<T>(label: string, opcode: number, schema: FieldType<T>, values: readonly T[], seed: number): DecodeWorkload<T> {
  const frames = values.map((value, i) => encodeFrame(opcode, i + 1, schema, value, { compressThreshold: Infinity }));
  const binary = Buffer.concat(frames);
  const json = Buffer.from(values.map((value, i) => jsonLine(opcode, i + 1, value)).join(''));
  return {
    label,
    schema,
    values,
    binary: { chunks: chop(binary, new Prng(seed), MIN_READ, MAX_READ), bytes: binary.length },
    json: { chunks: chop(json, new Prng(seed), MIN_READ, MAX_READ), bytes: json.length },
    bodies: frames.map((frame) => frame.subarray(HEADER_SIZE)),
    mapBodies: values.map((value) => Buffer.from(encode(value))),
  };
}

export function smallFrames(count: number, seed: number): DecodeWorkload<EntryRecord> {
  const values = pushEntries(new Prng(seed), count);
  return buildWorkload('small push frames', Opcode.push, Bodies.push, values, seed);
}

export function pageFrames(count: number, entriesPerPage: number, seed: number): DecodeWorkload<BodyOf<'syncPage'>> {
  const prng = new Prng(seed);
  const values = Array.from({ length: count }, (_, i) => syncPage(prng, entriesPerPage, 1_000_000 + i * entriesPerPage));
  return buildWorkload('page-sized sync frames', Opcode.syncPage, Bodies.syncPage, values, seed);
}

export function describeWorkload<T>(workload: DecodeWorkload<T>): string {
  const frames = workload.values.length;
  const average = Math.round(workload.binary.bytes / frames);
  return `${frames} frames of ~${average} B (${workload.binary.bytes} B) per op, in ${workload.binary.chunks.length} reads of 1–16 KiB`;
}
