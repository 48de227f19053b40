/**
 * What a bench module gets from bench/run.ts: a way to run suites, state goals and print facts
 * that are not timings. Everything passed through it also lands in the JSON summary.
 */
import { formatGoal, judge, type GoalResult, type GoalSpec } from './goals.ts';
import { table } from './format.ts';
import { runSuite, type RunOptions, type SuiteResult, type SuiteSpec } from './suite.ts';

export interface Fact {
  readonly title: string;
  readonly rows: readonly (readonly string[])[];
}

export interface BenchContext {
  readonly options: RunOptions;
  suite(spec: SuiteSpec): SuiteResult;
  /** Judges and prints a group of goals under one heading. */
  goals(title: string, goals: readonly GoalSpec[]): readonly GoalResult[];
  /** Prints a titled table, e.g. sizes on the wire; the first row is the header. */
  facts(fact: Fact): void;
}

/** A `bench/*.bench.ts` file. */
export interface BenchModule {
  run(context: BenchContext): Promise<void>;
}

export interface ModuleReport {
  readonly name: string;
  readonly seconds: number;
  readonly suites: SuiteResult[];
  readonly goals: GoalResult[];
  readonly facts: Fact[];
}

export class RecordingContext implements BenchContext {
  readonly suites: SuiteResult[] = [];
  readonly judged: GoalResult[] = [];
  readonly printed: Fact[] = [];

  constructor(readonly options: RunOptions) {}

  suite(spec: SuiteSpec): SuiteResult {
    const result = runSuite(spec, this.options);
    this.suites.push(result);
    return result;
  }

  goals(title: string, goals: readonly GoalSpec[]): readonly GoalResult[] {
    const results = goals.map(judge);
    const width = Math.max(...goals.map((g) => g.label.length));
    console.log(`\n${title}`);
    for (const result of results) console.log(formatGoal(result, width));
    this.judged.push(...results);
    return results;
  }

  facts(fact: Fact): void {
    console.log(`\n${fact.title}`);
    for (const line of table(fact.rows)) console.log(line);
    this.printed.push(fact);
  }

  report(name: string, seconds: number): ModuleReport {
    return { name, seconds, suites: this.suites, goals: this.judged, facts: this.printed };
  }
}
