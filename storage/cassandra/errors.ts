/** Errors of the Cassandra store, each with a stable code and whether a retry may succeed. */
export type CassandraStoreErrorCode =
  /** No node answered, or too few replicas did for the consistency level. */
  | 'unavailable'
  /** Lightweight transactions on one partition kept losing to concurrent ones. */
  | 'contention'
  /** A row does not have the shape the store wrote. */
  | 'corrupt'
  /** Options that cannot work, found before anything was written. */
  | 'badOptions';

export class CassandraStoreError extends Error {
  override readonly name = 'CassandraStoreError';

  constructor(
    readonly code: CassandraStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get retryable(): boolean {
    return this.code === 'unavailable' || this.code === 'contention';
  }
}

/** A bigint column (a JS bigint with useBigIntAsLong) or an int column, as a safe JS number. */
export function toNumber(column: string, value: unknown): number {
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new CassandraStoreError('corrupt', `column ${column}: expected an integer, got ${typeof value}`);
  return n;
}

export function toText(column: string, value: unknown): string {
  if (typeof value !== 'string') throw new CassandraStoreError('corrupt', `column ${column}: expected text, got ${typeof value}`);
  return value;
}
