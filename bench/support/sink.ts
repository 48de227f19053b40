/**
 * Where bench cases put what they produce. Keeping the latest value where the optimiser cannot
 * see it go unused stops it from dropping the work; the count lets a case be checked to have
 * produced what it should before it is timed.
 */
let held: unknown;
let count = 0;

export function keep(value: unknown): void {
  held = value;
  count++;
}

/** How many values `fn` kept: run once before timing to check that a case does the whole job. */
export function countKept(fn: () => unknown): number {
  const before = count;
  fn();
  return count - before;
}

/** The latest kept value, for spot checks. */
export function lastKept(): unknown {
  return held;
}
