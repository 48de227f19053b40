/** The machine-readable record of a run, for comparing runs across commits. */
import { cpus } from 'node:os';
import { writeFileSync } from 'node:fs';
import type { ModuleReport } from './context.ts';
import type { RunOptions } from './suite.ts';

export interface Summary {
  readonly finishedAt: string;
  readonly node: string;
  readonly cpu: string;
  readonly cores: number;
  readonly options: RunOptions;
  readonly modules: readonly ModuleReport[];
}

export function machine(): { node: string; cpu: string; cores: number } {
  const all = cpus();
  return { node: process.version, cpu: all[0]?.model.trim() ?? 'unknown', cores: all.length };
}

export function writeSummary(path: string, options: RunOptions, modules: readonly ModuleReport[]): void {
  const summary: Summary = { finishedAt: new Date().toISOString(), ...machine(), options, modules };
  writeFileSync(path, `${JSON.stringify(summary, null, 2)}\n`);
}
