/** Time is injected so that tests can fire keepalive and reconnect timers without sleeping. */
export interface Scheduler {
  /** Runs `task` after `ms`; the returned function cancels it. */
  after(ms: number, task: () => void): () => void;
}

/** Real timers, unref'd: a pending keepalive or reconnect never holds the process open. */
export const timerScheduler: Scheduler = {
  after(ms, task) {
    const timer = setTimeout(task, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};
