/**
 * Where a room message's time goes on the server of the rooms bench: a fan-out wrapped so that
 * each batch records how old its oldest message is when the flush starts (from the message's
 * server time: logic, the broadcast turn and the batch delay) and how long the flush takes from
 * its start to its last socket write, beside the event loop's delay. Bench-only: the server's
 * own fan-out is passed in unchanged.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { RoomFanout } from '../../server/gateway/rooms/fanout.ts';

/** The delay histogram samples every this many ms and records the whole interval: the delay is the excess. */
const LAG_RESOLUTION_MS = 10;

export interface FlushTimings {
  readonly batches: number;
  /** Oldest message's age at flush start, ms: p50, p99. */
  readonly waitP50: number;
  readonly waitP99: number;
  /** Flush start to its last write, ms: p50, p99, max. */
  readonly writeP50: number;
  readonly writeP99: number;
  readonly writeMax: number;
  /** Event-loop delay, ms: p50, p99 (sampled every 10 ms). */
  readonly lagP50: number;
  readonly lagP99: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export class FlushTimer {
  private waits: number[] = [];
  private writes: number[] = [];
  private readonly lag: IntervalHistogram = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });

  constructor() {
    this.lag.enable();
  }

  wrap(fanout: RoomFanout): RoomFanout {
    return (viewers, body, now, config, stats) => {
      const started = performance.now();
      let oldest = Infinity;
      for (const message of body.messages) if (message.sentAt < oldest) oldest = message.sentAt;
      const removed = fanout(viewers, body, now, config, stats);
      // Bounded by the run: about 50 batches a second for a few seconds.
      if (this.writes.length < 100_000) {
        this.writes.push(performance.now() - started);
        this.waits.push(Date.now() - oldest);
      }
      return removed;
    };
  }

  reset(): void {
    this.waits = [];
    this.writes = [];
    this.lag.reset();
  }

  timings(): FlushTimings {
    const waits = [...this.waits].sort((a, b) => a - b);
    const writes = [...this.writes].sort((a, b) => a - b);
    return {
      batches: writes.length,
      waitP50: percentile(waits, 50),
      waitP99: percentile(waits, 99),
      writeP50: percentile(writes, 50),
      writeP99: percentile(writes, 99),
      writeMax: writes[writes.length - 1] ?? NaN,
      lagP50: this.lag.percentile(50) / 1e6 - LAG_RESOLUTION_MS,
      lagP99: this.lag.percentile(99) / 1e6 - LAG_RESOLUTION_MS,
    };
  }
}
