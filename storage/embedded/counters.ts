import type { Database } from 'lmdb';

/**
 * Monotonic counters (conversation sequences, inbox versions) kept in memory and written through
 * to LMDB. The embedded store is owned by one process, so the in-memory value is authoritative;
 * after a restart it resumes from the last committed value. Values are handed out synchronously,
 * so concurrent callers never share one, and the promise resolves once the new value is durable.
 */
export class Counters {
  private readonly cache = new Map<string, number>();

  constructor(private readonly db: Database<number, string>) {}

  current(key: string): number {
    let value = this.cache.get(key);
    if (value === undefined) {
      value = this.db.get(key) ?? 0;
      this.cache.set(key, value);
    }
    return value;
  }

  /** Hands out the next value now; `durable` resolves once it is committed. */
  take(key: string): { value: number; durable: Promise<boolean> } {
    const value = this.current(key) + 1;
    this.cache.set(key, value);
    return { value, durable: this.db.put(key, value) };
  }

  async next(key: string): Promise<number> {
    const { value, durable } = this.take(key);
    await durable;
    return value;
  }
}
