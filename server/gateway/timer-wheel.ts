/**
 * A bucketed deadline sweep. Connections register a deadline in a coarse bucket instead of arming
 * a timer per connection per frame; when a bucket comes due, each item's `expire` callback decides
 * (from timestamps it keeps itself) whether it has really expired or wants a later deadline.
 * One interval drives the whole wheel, so the cost is O(expiring items), not O(frames).
 */
export interface Expirable {
  /** Called when the item's bucket is due; returns a new deadline to be checked again, or undefined when done. */
  expire(now: number): number | undefined;
}

export class TimerWheel<T extends Expirable> {
  private readonly buckets = new Map<number, Set<T>>();
  private cursor: number;

  constructor(
    private readonly resolutionMs: number,
    now: number,
  ) {
    this.cursor = Math.floor(now / resolutionMs);
  }

  schedule(item: T, deadline: number): void {
    const slot = Math.max(Math.ceil(deadline / this.resolutionMs), this.cursor + 1);
    let bucket = this.buckets.get(slot);
    if (!bucket) {
      bucket = new Set();
      this.buckets.set(slot, bucket);
    }
    bucket.add(item);
  }

  /** Runs every bucket up to `now`. */
  advance(now: number): void {
    const target = Math.floor(now / this.resolutionMs);
    while (this.cursor < target) {
      this.cursor++;
      const bucket = this.buckets.get(this.cursor);
      if (!bucket) continue;
      this.buckets.delete(this.cursor);
      for (const item of bucket) {
        const next = item.expire(now);
        if (next !== undefined) this.schedule(item, next);
      }
    }
  }

  get pendingBuckets(): number {
    return this.buckets.size;
  }
}
