/**
 * Decoding a stream of frames cut into reads: our FrameDecoder against a Buffer.concat
 * length-prefix decoder and JSON lines, first framing only, then with the bodies decoded.
 */
import { decodeBody, decodeMsgpack, FrameDecoder, readBody, type Frame } from '../../codec/index.ts';
import type { CaseSpec, SuiteSpec } from '../support/suite.ts';
import { countKept, keep } from '../support/sink.ts';
import { ConcatDecoder, JsonLinesDecoder } from './baselines.ts';
import { describeWorkload, totalLength, type DecodeWorkload } from './workloads.ts';

export const DecodeCase = {
  naive: 'naive length-prefix (Buffer.concat per read)',
  jsonLines: 'JSON lines (StringDecoder + split)',
  ours: 'FrameDecoder',
  naiveFull: 'naive length-prefix + readBody',
  jsonLinesFull: 'JSON lines + JSON.parse (no schema check)',
  oursFull: 'FrameDecoder + readBody',
  bodyAndSchema: 'msgpack + schema check alone (decodeBody)',
  bodyOnly: 'msgpack alone (@msgpack/msgpack Decoder)',
} as const;

/** A case that must produce one value per frame; checked once before it is timed. */
function frameCase(name: string, frames: number, bytes: number, fn: () => void): CaseSpec {
  const produced = countKept(fn);
  if (produced !== frames) throw new Error(`${name} produced ${produced} values for ${frames} frames`);
  return { name, fn, frames, bytes };
}

interface StreamDecoder<T> {
  push(chunk: Buffer, sink: (item: T) => void): unknown;
}

function feed<T>(decoder: StreamDecoder<T>, chunks: readonly Buffer[], sink: (item: T) => void): void {
  for (const chunk of chunks) decoder.push(chunk, sink);
}

/** How many frames FrameDecoder had to copy because they spanned reads; the rest are views. */
function copiedFrames<T>(workload: DecodeWorkload<T>): string {
  const decoder = new FrameDecoder();
  feed(decoder, workload.binary.chunks, keep);
  const { frames, copiedFrames } = decoder.stats;
  return `FrameDecoder copies the ${copiedFrames} of ${frames} frames that span reads and hands out views of the rest`;
}

export function framingSuite<T>(workload: DecodeWorkload<T>): SuiteSpec {
  const { binary, json } = workload;
  const frames = workload.values.length;
  return {
    title: `decode · ${workload.label} · framing only`,
    details: [describeWorkload(workload), copiedFrames(workload)],
    baseline: DecodeCase.naive,
    cases: [
      frameCase(DecodeCase.naive, frames, binary.bytes, () => feed(new ConcatDecoder(), binary.chunks, keep)),
      frameCase(DecodeCase.jsonLines, frames, json.bytes, () => feed(new JsonLinesDecoder(), json.chunks, keep)),
      frameCase(DecodeCase.ours, frames, binary.bytes, () => feed(new FrameDecoder(), binary.chunks, keep)),
    ],
  };
}

export function fullDecodeSuite<T>(workload: DecodeWorkload<T>): SuiteSpec {
  const { binary, json, bodies, schema } = workload;
  const frames = workload.values.length;
  const readSink = (frame: Frame): void => keep(readBody(frame, schema));
  const parseSink = (line: string): void => keep(JSON.parse(line));
  const bodyBytes = totalLength(bodies);
  return {
    title: `decode · ${workload.label} · header + body`,
    details: [`the same streams; JSON lines: ${json.bytes} B in ${json.chunks.length} reads`],
    baseline: DecodeCase.naiveFull,
    cases: [
      frameCase(DecodeCase.naiveFull, frames, binary.bytes, () => feed(new ConcatDecoder(), binary.chunks, readSink)),
      frameCase(DecodeCase.jsonLinesFull, frames, json.bytes, () => feed(new JsonLinesDecoder(), json.chunks, parseSink)),
      frameCase(DecodeCase.oursFull, frames, binary.bytes, () => feed(new FrameDecoder(), binary.chunks, readSink)),
      frameCase(DecodeCase.bodyAndSchema, frames, bodyBytes, () => {
        for (const body of bodies) keep(decodeBody(schema, body));
      }),
      frameCase(DecodeCase.bodyOnly, frames, bodyBytes, () => {
        for (const body of bodies) keep(decodeMsgpack(body));
      }),
    ],
  };
}
