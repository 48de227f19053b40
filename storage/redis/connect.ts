/** Opening an ioredis connection that fails fast, with a typed error, when nobody listens. */
import { Redis } from 'ioredis';
import { RedisStoreError } from './errors.ts';
import type { LuaScript } from './script.ts';

export interface RedisConnection {
  readonly host?: string;
  readonly port?: number;
  readonly db?: number;
  /** Milliseconds to wait for the first connection. */
  readonly connectTimeoutMs?: number;
}

/**
 * Connects and waits until the server answers. After that, a dropped connection is retried with
 * capped exponential backoff, and commands issued meanwhile wait in ioredis's offline queue
 * (each fails after maxRetriesPerRequest reconnect attempts rather than hanging forever).
 */
export async function connectRedis(options: RedisConnection, scripts: readonly LuaScript[] = []): Promise<Redis> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 6379;
  const redis = new Redis({
    host,
    port,
    db: options.db ?? 0,
    lazyConnect: true,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    maxRetriesPerRequest: 20,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), 2_000),
  });
  let lastError: unknown;
  // Without a listener ioredis prints every connection error; the store reports them through commands.
  redis.on('error', (error: unknown) => {
    lastError = error;
  });
  try {
    await redis.connect();
    await Promise.all(scripts.map((script) => redis.script('LOAD', script.source)));
  } catch (error) {
    redis.disconnect();
    const reason = lastError instanceof Error ? lastError.message : error instanceof Error ? error.message : String(error);
    throw new RedisStoreError('unavailable', `cannot reach Redis at ${host}:${port}: ${reason}`, { cause: lastError ?? error });
  }
  return redis;
}
