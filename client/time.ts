/** Time for the SDK, injected so that tests fire its timers (gap waits, sync backoff) without sleeping. */
export interface ClientTime {
  now(): number;
  /** Runs `task` after `ms`; the returned function cancels it. */
  after(ms: number, task: () => void): () => void;
}

export const realTime: ClientTime = {
  now: () => Date.now(),
  after(ms, task) {
    const timer = setTimeout(task, ms);
    return () => clearTimeout(timer);
  },
};

/** Resolves after `ms` of the given time. */
export function delay(time: ClientTime, ms: number): Promise<void> {
  return new Promise((resolve) => time.after(ms, resolve));
}
