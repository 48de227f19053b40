/**
 * Keeps `count` gateway workers running: a worker that exits while the node is not stopping is
 * replaced. Bounded: at most `maxRestarts` replacements in any `windowMs`; past that a crash loop
 * is assumed and the slot stays empty (policy: log and run with fewer workers rather than fork
 * forever), so the node keeps serving on the workers it has.
 */
import type { Worker } from 'node:cluster';
import type { Logger } from '../gateway/gateway.ts';
import type { Clock } from '../logic/clock.ts';

export interface SupervisorOptions {
  readonly count: number;
  readonly fork: () => Worker;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly maxRestarts: number;
  readonly windowMs: number;
}

export class Supervisor {
  private readonly live = new Set<Worker>();
  private readonly restarts: number[] = [];
  private stopping = false;

  constructor(private readonly options: SupervisorOptions) {}

  start(): void {
    for (let i = 0; i < this.options.count; i++) this.spawn();
  }

  get workers(): readonly Worker[] {
    return [...this.live];
  }

  /**
   * No more replacements; `stop` tells each worker to end (a signal, or a message); resolves when
   * every worker has exited, killing the rest at the deadline.
   */
  stop(stop: NodeJS.Signals | ((worker: Worker) => void), deadlineMs: number): Promise<void> {
    this.stopping = true;
    const exits = [...this.live].map((worker) => new Promise<void>((resolve) => (worker.isDead() ? resolve() : worker.process.once('exit', () => resolve()))));
    // process.kill, not worker.kill: worker.kill disconnects the IPC channel first, and a draining
    // worker still needs it to finish its in-flight requests with the logic.
    for (const worker of this.live) {
      if (typeof stop === 'function') stop(worker);
      else worker.process.kill(stop);
    }
    const timer = setTimeout(() => {
      for (const worker of this.live) worker.process.kill('SIGKILL');
    }, deadlineMs);
    return Promise.all(exits).then(() => clearTimeout(timer));
  }

  private spawn(): void {
    const worker = this.options.fork();
    this.live.add(worker);
    worker.on('exit', (code, signal) => {
      this.live.delete(worker);
      if (this.stopping) return;
      this.options.logger('worker-crash', { worker: worker.id, code, signal });
      this.replace();
    });
  }

  private replace(): void {
    const now = this.options.clock.now();
    while (this.restarts.length > 0 && (this.restarts[0] as number) <= now - this.options.windowMs) this.restarts.shift();
    if (this.restarts.length >= this.options.maxRestarts) {
      this.options.logger('respawn-limit', { restarts: this.restarts.length, windowMs: this.options.windowMs, workers: this.live.size });
      return;
    }
    this.restarts.push(now);
    this.spawn();
    this.options.logger('worker-respawn', { workers: this.live.size });
  }
}
