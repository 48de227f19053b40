/**
 * A small runner around benchmark.js. A suite is a list of cases doing the same work in
 * different ways; one of them is the named baseline. Every case is reported as ops/s ± relative
 * margin of error, plus frames/s and MB/s when the case says how many frames and bytes one call
 * handles, and its speed relative to the baseline.
 *
 * ops/s is taken from the median of benchmark.js's samples rather than their mean: on a shared
 * machine a few samples stalled by other processes move the mean far more than the median.
 */
import Benchmark from 'benchmark';
import { integer, megabytes, ratio, scaled } from './format.ts';

export interface CaseSpec {
  readonly name: string;
  /** One operation. Called by reference: benchmark.js never decompiles it. */
  readonly fn: () => unknown;
  /** Frames handled by one call, for a frames/s column. */
  readonly frames?: number;
  /** Bytes handled by one call, for an MB/s column. */
  readonly bytes?: number;
}

export interface SuiteSpec {
  readonly title: string;
  /** Lines under the title describing the workload. */
  readonly details?: readonly string[];
  /** Name of the case the others are compared with. */
  readonly baseline: string;
  readonly cases: readonly CaseSpec[];
}

export interface RunOptions {
  /** Seconds benchmark.js may spend sampling one case. */
  readonly maxTime: number;
  readonly minSamples: number;
}

export interface CaseResult {
  readonly name: string;
  /** Operations per second, from the median sample. */
  readonly hz: number;
  /** benchmark.js's relative margin of error of the mean, in percent. */
  readonly rme: number;
  readonly samples: number;
  readonly framesPerSecond: number | undefined;
  readonly bytesPerSecond: number | undefined;
  /** hz divided by the baseline's hz: above 1 is faster than the baseline. */
  readonly vsBaseline: number;
}

export interface SuiteResult {
  readonly title: string;
  readonly baseline: string;
  readonly cases: readonly CaseResult[];
}

/** Runs the baseline first, then the other cases in order, printing each line as it finishes. */
export function runSuite(spec: SuiteSpec, options: RunOptions): SuiteResult {
  const baselineCase = spec.cases.find((c) => c.name === spec.baseline);
  if (!baselineCase) throw new Error(`suite "${spec.title}" has no case named "${spec.baseline}"`);
  const ordered = [baselineCase, ...spec.cases.filter((c) => c !== baselineCase)];
  const nameWidth = Math.max(...spec.cases.map((c) => c.name.length));
  console.log(`\n${spec.title}`);
  for (const line of spec.details ?? []) console.log(`  ${line}`);
  const results: CaseResult[] = [];
  for (const one of ordered) {
    const measured = measure(one, options);
    const result = withRates(one, measured, results[0]?.hz ?? measured.hz);
    console.log(formatLine(result, nameWidth, one === baselineCase));
    results.push(result);
  }
  return { title: spec.title, baseline: spec.baseline, cases: results };
}

interface Measured {
  readonly hz: number;
  readonly rme: number;
  readonly samples: number;
}

function measure(spec: CaseSpec, options: RunOptions): Measured {
  const bench = new Benchmark(spec.name, spec.fn, { maxTime: options.maxTime, minSamples: options.minSamples });
  bench.run({ async: false });
  const error: unknown = (bench as { error?: unknown }).error;
  if (error) throw new Error(`case "${spec.name}" failed`, { cause: error });
  const { sample, rme } = bench.stats;
  return { hz: 1 / median(sample), rme, samples: sample.length };
}

/** Median of seconds-per-op samples. */
function median(sample: readonly number[]): number {
  const sorted = [...sample].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function withRates(spec: CaseSpec, measured: Measured, baselineHz: number): CaseResult {
  return {
    name: spec.name,
    ...measured,
    framesPerSecond: spec.frames === undefined ? undefined : measured.hz * spec.frames,
    bytesPerSecond: spec.bytes === undefined ? undefined : measured.hz * spec.bytes,
    vsBaseline: measured.hz / baselineHz,
  };
}

function formatLine(result: CaseResult, nameWidth: number, isBaseline: boolean): string {
  const cells = [
    result.name.padEnd(nameWidth),
    `${integer(result.hz)} ops/s`.padStart(17),
    `±${result.rme.toFixed(1)}%`.padStart(7),
    (result.framesPerSecond === undefined ? '' : `${scaled(result.framesPerSecond)}frames/s`).padStart(17),
    (result.bytesPerSecond === undefined ? '' : megabytes(result.bytesPerSecond)).padStart(13),
    isBaseline ? '   (baseline)' : `${ratio(result.vsBaseline).padStart(6)} baseline`,
  ];
  return `  ${cells.join('  ')}`;
}

/** The result of the named case; throws on a typo so that a goal never reads a missing number. */
export function caseOf(suite: SuiteResult, name: string): CaseResult {
  const found = suite.cases.find((c) => c.name === name);
  if (!found) throw new Error(`suite "${suite.title}" has no case named "${name}"`);
  return found;
}
