/**
 * Encoding: encodeFrame (header room reserved in the frame buffer, one copy of the body) against
 * allocating a header and concatenating, and fan-out with one prepared body for many receivers.
 */
import { encodeFrame, encodeShared, frameHeader, prepareBody, type EncodeOptions } from '../../codec/index.ts';
import type { FieldType } from '../../protocol/schema.ts';
import { countKept, keep } from '../support/sink.ts';
import type { CaseSpec, SuiteSpec } from '../support/suite.ts';
import { concatEncoded, concatFrame } from './baselines.ts';

export const EncodeCase = {
  concat: 'alloc header + Buffer.concat, fresh encode()',
  concatShared: 'alloc header + Buffer.concat, shared encoder',
  ours: 'encodeFrame',
  oursLz4: 'encodeFrame, LZ4 at the default threshold',
  perReceiver: 'encodeFrame per receiver',
  fanOut: 'prepareBody once + frameHeader per receiver',
} as const;

export interface EncodeWorkload<T> {
  readonly label: string;
  readonly opcode: number;
  readonly schema: FieldType<T>;
  readonly values: readonly T[];
}

/** Like-for-like with the baselines, which never compress. */
const UNCOMPRESSED: EncodeOptions = { compressThreshold: Infinity };

/** Bytes of the uncompressed frames, so that MB/s means the same payload in every case. */
function frameBytesOf<T>(workload: EncodeWorkload<T>): number {
  const { opcode, schema, values } = workload;
  return values.reduce((sum, value) => sum + encodeFrame(opcode, 1, schema, value, UNCOMPRESSED).length, 0);
}

function encodeCase<T>(name: string, workload: EncodeWorkload<T>, encode: (value: T, requestId: number) => Buffer): CaseSpec {
  const { values } = workload;
  const fn = (): void => {
    for (let i = 0; i < values.length; i++) keep(encode(values[i] as T, i + 1));
  };
  if (countKept(fn) !== values.length) throw new Error(`${name} did not encode every value`);
  return { name, fn, frames: values.length, bytes: frameBytesOf(workload) };
}

export function encodeSuite<T>(workload: EncodeWorkload<T>, withLz4: boolean): SuiteSpec {
  const { opcode, schema } = workload;
  const cases = [
    encodeCase(EncodeCase.concat, workload, (value, id) => concatFrame(opcode, id, schema.toWire(value))),
    encodeCase(EncodeCase.concatShared, workload, (value, id) => concatEncoded(opcode, id, encodeShared(schema.toWire(value)))),
    encodeCase(EncodeCase.ours, workload, (value, id) => encodeFrame(opcode, id, schema, value, UNCOMPRESSED)),
  ];
  if (withLz4) cases.push(encodeCase(EncodeCase.oursLz4, workload, (value, id) => encodeFrame(opcode, id, schema, value)));
  return {
    title: `encode · ${workload.label}`,
    details: [`${workload.values.length} frames per op, MB/s counts the uncompressed frames' bytes`],
    baseline: EncodeCase.concat,
    cases,
  };
}

/** One body sent to `receivers` sessions, each frame with its own SID. */
export function fanOutSuite<T>(workload: EncodeWorkload<T>, receivers: number): SuiteSpec {
  const { opcode, schema } = workload;
  const value = workload.values[0] as T;
  const perReceiver = (): void => {
    for (let sid = 1; sid <= receivers; sid++) keep(encodeFrame(opcode, sid, schema, value));
  };
  const fanOut = (): void => {
    const prepared = prepareBody(schema, value);
    for (let sid = 1; sid <= receivers; sid++) keep(frameHeader(opcode, sid, prepared));
  };
  const frameBytes = encodeFrame(opcode, 1, schema, value).length;
  return {
    title: `encode · fan-out of one ${workload.label.replace(/s$/, '')} to ${receivers} receivers`,
    details: [`${receivers} frames of ${frameBytes} B per op; the prepared body is written after each header (cork/writev)`],
    baseline: EncodeCase.perReceiver,
    cases: [
      { name: EncodeCase.perReceiver, fn: perReceiver, frames: receivers, bytes: receivers * frameBytes },
      { name: EncodeCase.fanOut, fn: fanOut, frames: receivers, bytes: receivers * frameBytes },
    ],
  };
}
