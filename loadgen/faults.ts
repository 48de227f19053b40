/**
 * Faults the coordinator injects while devices message, so a run shows what the checker counts
 * when the server's hot store loses its data under load. `redis-flush@S`: FLUSHALL on the given
 * Redis S seconds after messaging started. The Redis is named explicitly (`--fault-redis`), never
 * guessed: it must be one the run owns.
 */
import { connectRedis } from '../storage/redis/connect.ts';

export interface FaultPlan {
  readonly kind: 'redis-flush';
  readonly atSeconds: number;
  readonly redis: { readonly host: string; readonly port: number };
}

export interface FaultEvent {
  /** Seconds after messaging started. */
  readonly t: number;
  readonly what: string;
}

/** "redis-flush@5" and "127.0.0.1:6391" → a plan; undefined when no fault is asked for. */
export function parseFault(spec: string | undefined, redis: string | undefined): FaultPlan | undefined {
  if (spec === undefined || spec === '') return undefined;
  const match = /^redis-flush@(\d+(?:\.\d+)?)s?$/.exec(spec);
  if (!match) throw new Error(`unknown fault "${spec}": expected redis-flush@SECONDS`);
  const [host, port] = (redis ?? '').split(':');
  if (!host || !port || !Number.isInteger(Number(port))) throw new Error('a redis fault needs --fault-redis HOST:PORT, the Redis the server under test uses');
  return { kind: 'redis-flush', atSeconds: Number(match[1]), redis: { host, port: Number(port) } };
}

/** Schedules the fault from now; the returned function cancels it if it has not run. Events and failures are logged and recorded. */
export function scheduleFault(plan: FaultPlan, events: FaultEvent[], log: (line: string) => void): () => void {
  const started = performance.now();
  const timer = setTimeout(() => {
    void (async () => {
      const t = (performance.now() - started) / 1000;
      try {
        const redis = await connectRedis({ ...plan.redis, connectTimeoutMs: 2_000 });
        try {
          await redis.flushall();
        } finally {
          await redis.quit();
        }
        events.push({ t, what: `FLUSHALL on ${plan.redis.host}:${plan.redis.port}` });
        log(`fault at ${t.toFixed(1)}s: FLUSHALL on ${plan.redis.host}:${plan.redis.port}`);
      } catch (error) {
        events.push({ t, what: `FLUSHALL on ${plan.redis.host}:${plan.redis.port} failed: ${(error as Error).message}` });
        log(`fault at ${t.toFixed(1)}s failed: ${(error as Error).message}`);
      }
    })();
  }, plan.atSeconds * 1000);
  return () => clearTimeout(timer);
}
