/** Errors of the Redis store, each with a stable code and whether a retry may succeed. */
export type RedisStoreErrorCode =
  /** The server cannot be reached or the connection dropped. */
  | 'unavailable'
  /** A reply or a stored value does not have the shape the store wrote. */
  | 'corrupt';

export class RedisStoreError extends Error {
  override readonly name = 'RedisStoreError';

  constructor(
    readonly code: RedisStoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** An unavailable server may come back; a corrupt value will not fix itself. */
  get retryable(): boolean {
    return this.code === 'unavailable';
  }
}

export function corrupt(what: string, value: unknown): RedisStoreError {
  const shown = typeof value === 'string' ? value.slice(0, 80) : typeof value;
  return new RedisStoreError('corrupt', `unexpected ${what} from Redis: ${shown}`);
}

/** An integer reply (Redis sends integers as numbers, and hash fields as decimal strings). */
export function toInt(what: string, value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw corrupt(what, value);
  return n;
}

export function toArray(what: string, value: unknown): unknown[] {
  if (!Array.isArray(value)) throw corrupt(what, value);
  return value;
}

export function toStringReply(what: string, value: unknown): string {
  if (typeof value !== 'string') throw corrupt(what, value);
  return value;
}

/** A hash reply (HGETALL): an object of string fields. */
export function toFields(what: string, value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw corrupt(what, value);
  const fields: Record<string, string> = {};
  for (const [name, field] of Object.entries(value)) {
    if (typeof field !== 'string') throw corrupt(`${what} field ${name}`, field);
    fields[name] = field;
  }
  return fields;
}
