/**
 * Body formats: the same bodies as positional arrays (what the protocol sends) and as maps with
 * field names, each decoded by @msgpack/msgpack (what the codec uses) and by msgpackr.
 */
import { deepStrictEqual } from 'node:assert/strict';
import { Unpackr } from 'msgpackr';
import { decodeMsgpack } from '../../codec/index.ts';
import { keep } from '../support/sink.ts';
import type { CaseSpec, SuiteSpec } from '../support/suite.ts';
import { totalLength, type DecodeWorkload } from './workloads.ts';

export const BodyCase = {
  positional: '@msgpack/msgpack · positional array',
  positionalMsgpackr: 'msgpackr Unpackr · positional array',
  map: '@msgpack/msgpack · map with field names',
  mapMsgpackr: 'msgpackr Unpackr · map with field names',
} as const;

type Decode = (bytes: Uint8Array) => unknown;

/** msgpackr's defaults, except that uint64 decodes to a number as @msgpack/msgpack does, not a BigInt. */
const unpackr = new Unpackr({ useRecords: false, int64AsType: 'number' });
const unpackBody: Decode = (bytes) => unpackr.unpack(bytes);

/** Checks on the first body that `decode` gives the expected value, then times it over all bodies. */
function bodyCase(name: string, bodies: readonly Buffer[], decode: Decode, expected: unknown): CaseSpec {
  deepStrictEqual(decode(bodies[0] as Buffer), expected, `${name} decodes the first body`);
  return {
    name,
    frames: bodies.length,
    bytes: totalLength(bodies),
    fn: () => {
      for (const body of bodies) keep(decode(body));
    },
  };
}

export function bodyFormatSuite<T>(workload: DecodeWorkload<T>): SuiteSpec {
  const { bodies, mapBodies, schema } = workload;
  const first = workload.values[0] as T;
  const wire = schema.toWire(first);
  const average = (buffers: readonly Buffer[]): number => Math.round(totalLength(buffers) / buffers.length);
  return {
    title: `body decode · ${workload.label} · positional vs map`,
    details: [`${bodies.length} bodies per op; positional ~${average(bodies)} B, map ~${average(mapBodies)} B per body`],
    baseline: BodyCase.positional,
    cases: [
      bodyCase(BodyCase.positional, bodies, decodeMsgpack, wire),
      bodyCase(BodyCase.positionalMsgpackr, bodies, unpackBody, wire),
      bodyCase(BodyCase.map, mapBodies, decodeMsgpack, first),
      bodyCase(BodyCase.mapMsgpackr, mapBodies, unpackBody, first),
    ],
  };
}
