/**
 * Runs every `bench/*.bench.ts` module in name order, or those whose name contains one of the
 * positional arguments: `npm run bench -- codec`. Options:
 *   --max-time=S   seconds benchmark.js may sample one case (default 2)
 *   --json=PATH    also write a JSON summary of every suite and goal to PATH
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { RecordingContext, type BenchModule, type ModuleReport } from './support/context.ts';
import { machine, writeSummary } from './support/summary.ts';
import type { RunOptions } from './support/suite.ts';

const SUFFIX = '.bench.ts';
const here = dirname(fileURLToPath(import.meta.url));

function isBenchModule(value: unknown): value is BenchModule {
  return typeof value === 'object' && value !== null && typeof (value as { run?: unknown }).run === 'function';
}

function selectBenches(filters: readonly string[]): string[] {
  const names = readdirSync(here)
    .filter((file) => file.endsWith(SUFFIX))
    .map((file) => file.slice(0, -SUFFIX.length))
    .sort();
  if (filters.length === 0) return names;
  const selected = names.filter((name) => filters.some((filter) => name.includes(filter)));
  if (selected.length === 0) throw new Error(`no bench matches ${filters.join(', ')}; available: ${names.join(', ')}`);
  return selected;
}

function parseOptions(): { filters: string[]; options: RunOptions; json: string | undefined } {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'max-time': { type: 'string' }, json: { type: 'string' } },
  });
  const maxTime = Number(values['max-time'] ?? '2');
  if (!(maxTime > 0)) throw new Error(`--max-time must be a positive number of seconds, got ${values['max-time']}`);
  return { filters: positionals, options: { maxTime, minSamples: 10 }, json: values.json };
}

async function runOne(name: string, options: RunOptions): Promise<ModuleReport> {
  const loaded: unknown = await import(pathToFileURL(join(here, name + SUFFIX)).href);
  if (!isBenchModule(loaded)) throw new Error(`${name}${SUFFIX} does not export run(context)`);
  const context = new RecordingContext(options);
  const started = performance.now();
  await loaded.run(context);
  return context.report(name, (performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const { filters, options, json } = parseOptions();
  const names = selectBenches(filters);
  const { node, cpu, cores } = machine();
  console.log(`node ${node} · ${cpu} · ${cores} cores · up to ${options.maxTime} s per case · ops/s from the median sample`);
  const reports: ModuleReport[] = [];
  for (const name of names) {
    console.log(`\n=== ${name} ===`);
    try {
      const report = await runOne(name, options);
      console.log(`\n${name}: ${report.seconds.toFixed(0)} s`);
      reports.push(report);
    } catch (error) {
      console.error(`${name} failed:`, error);
      process.exitCode = 1;
    }
  }
  if (json !== undefined) writeSummary(json, options, reports);
}

await main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
