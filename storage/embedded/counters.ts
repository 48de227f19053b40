import type { Database } from 'lmdb';

/**
 * Records a pending write so that `durable()` can wait for it, and, given a scope, so that reads
 * of that scope wait for it too (see pending.ts).
 */
export type WriteTracker = (write: Promise<unknown>, scope?: string) => void;

/**
 * Monotonic counters (conversation sequences, inbox versions) kept in memory and written through
 * to LMDB. The embedded store is owned by one process, so the in-memory value is authoritative;
 * after a restart it resumes from the last committed value. Values are handed out synchronously,
 * so concurrent callers never share one, and the promise resolves once the new value is durable.
 */
export class Counters {
  private readonly cache = new Map<string, number>();

  /**
   * A counter whose value is also the last key of the data it numbers (a conversation's last
   * history seq, a user's last inbox version) need not be written at all: `derive` reads that key
   * after a restart, and `next(key, false)` hands out a value whose record is the data itself.
   */
  constructor(
    private readonly db: Database<number, string>,
    private readonly track: WriteTracker,
    private readonly derive: (key: string) => number = () => 0,
  ) {}

  current(key: string): number {
    let value = this.cache.get(key);
    if (value === undefined) {
      value = Math.max(this.db.get(key) ?? 0, this.derive(key));
      this.cache.set(key, value);
    }
    return value;
  }

  /** Hands out the next value now; unless the data records it, its write is committed in order with the store's others. */
  next(key: string, persist = true): number {
    const value = this.current(key) + 1;
    this.cache.set(key, value);
    if (persist) this.track(this.db.put(key, value));
    return value;
  }
}
