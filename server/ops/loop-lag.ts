/** Event-loop delay of this process, sampled by Node every 20 ms, read (and reset) at each scrape. */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface LoopLag {
  /** Seconds. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export class LoopLagMonitor {
  private readonly histogram: IntervalHistogram;

  constructor() {
    this.histogram = monitorEventLoopDelay({ resolution: 20 });
    this.histogram.enable();
  }

  /** The delays since the previous read. */
  read(): LoopLag {
    const h = this.histogram;
    const lag = h.count === 0 ? { p50: 0, p99: 0, max: 0 } : { p50: h.percentile(50) / 1e9, p99: h.percentile(99) / 1e9, max: h.max / 1e9 };
    h.reset();
    return lag;
  }

  stop(): void {
    this.histogram.disable();
  }
}
