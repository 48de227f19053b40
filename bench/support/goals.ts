/**
 * Performance goals, printed as PASS or MISS beside the measured value. They report, they do not
 * fail the run: timings on a shared machine are too noisy to gate anything on.
 */
import { ratio } from './format.ts';

export interface GoalSpec {
  readonly label: string;
  /** The measured value, a ratio of two speeds or costs. */
  readonly actual: number;
  readonly target: number;
  readonly direction: 'atLeast' | 'atMost';
}

export interface GoalResult extends GoalSpec {
  readonly pass: boolean;
}

export function atLeast(label: string, actual: number, target: number): GoalSpec {
  return { label, actual, target, direction: 'atLeast' };
}

export function atMost(label: string, actual: number, target: number): GoalSpec {
  return { label, actual, target, direction: 'atMost' };
}

export function judge(goal: GoalSpec): GoalResult {
  const pass = goal.direction === 'atLeast' ? goal.actual >= goal.target : goal.actual <= goal.target;
  return { ...goal, pass };
}

export function formatGoal(goal: GoalResult, labelWidth: number): string {
  const target = `${goal.direction === 'atLeast' ? '≥' : '≤'} ${ratio(goal.target)}`;
  return `  ${goal.pass ? 'PASS' : 'MISS'}  ${goal.label.padEnd(labelWidth)}  ${ratio(goal.actual).padStart(7)}  (goal ${target})`;
}
