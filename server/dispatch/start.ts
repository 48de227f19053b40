/** Wires dispatch for one node: its board (local, or Redis in production), its reports, its listener. */
import { availableParallelism, loadavg } from 'node:os';
import type { Redis } from 'ioredis';
import { connectRedis } from '../../storage/redis/connect.ts';
import { RedisLoadBoard } from '../../storage/redis/load-board.ts';
import type { ServerConfig } from '../config.ts';
import type { Logger } from '../gateway/gateway.ts';
import { systemClock } from '../logic/clock.ts';
import { RedisRouting } from '../routing/redis.ts';
import type { Routing } from '../routing/port.ts';
import { errorReporter } from '../node.ts';
import { redisConnection } from '../stores.ts';
import { LocalBoard, type LoadBoard } from './board.ts';
import { DispatchHttp } from './dispatch-http.ts';
import { Dispatcher, type DispatchEndpoint } from './dispatcher.ts';

/** Every 2 s a node publishes its load; a report older than 3 intervals is ignored. */
const INTERVAL_MS = 2_000;
const ENDPOINTS_PER_ANSWER = 3;

export interface RunningDispatch {
  readonly port: number;
  /** The other nodes for goAway.alternatives; empty on error (a drain must not wait on Redis). */
  alternatives(): Promise<DispatchEndpoint[]>;
  close(): Promise<void>;
}

export async function startDispatch(
  config: ServerConfig,
  logger: Logger,
  routing: Routing,
  bound: { readonly port: number; readonly tlsPort: number | undefined },
  load: () => Promise<{ readonly connections: number; readonly accepted: number }>,
): Promise<RunningDispatch | undefined> {
  if (!config.dispatch) return undefined;
  let redis: Redis | undefined;
  let board: LoadBoard = new LocalBoard();
  if (config.store.kind === 'production') {
    redis = await connectRedis(redisConnection(config.store.redisUrl));
    board = new RedisLoadBoard(redis, config.store.keyPrefix);
  }
  const nodeId = routing instanceof RedisRouting ? routing.nodeId : 'local';
  const cores = availableParallelism();
  const capacity = config.maxConnectionsPerWorker * Math.max(1, config.workers);
  let previous: { accepted: number; at: number } | undefined;
  const dispatcher = new Dispatcher({
    board,
    clock: systemClock,
    intervalMs: INTERVAL_MS,
    staleMs: 3 * INTERVAL_MS,
    limit: ENDPOINTS_PER_ANSWER,
    onError: errorReporter(logger, 'dispatch-error'),
    measure: async () => {
      const { connections, accepted } = await load();
      const at = systemClock.now();
      const acceptRate = previous && at > previous.at ? ((accepted - previous.accepted) * 1000) / (at - previous.at) : 0;
      previous = { accepted, at };
      return {
        nodeId,
        host: config.publicHost,
        port: bound.port,
        ...(bound.tlsPort !== undefined ? { tlsPort: bound.tlsPort } : {}),
        connections,
        capacity,
        cpu: Math.min(1, (loadavg()[0] ?? 0) / cores),
        acceptRate: Math.max(0, Math.round(acceptRate)),
        at,
      };
    },
  });
  await dispatcher.start();
  const http = new DispatchHttp(dispatcher, errorReporter(logger, 'dispatch-error'));
  const port = await http.listen(config.dispatch.host, config.dispatch.port);
  return {
    port,
    alternatives: () => dispatcher.alternatives().catch(() => []),
    async close() {
      await http.close();
      await dispatcher.stop().catch(() => undefined);
      await redis?.quit();
    },
  };
}
