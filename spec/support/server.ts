import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type ClientOptions } from '../../client/client.ts';
import { Platform } from '../../protocol/bodies.ts';
import type { GatewayConfig } from '../../server/gateway/config.ts';
import type { Clock } from '../../server/logic/clock.ts';
import { startNode, type NodeOptions, type RunningNode } from '../../server/node.ts';

/** A clock that only moves when the test says so. */
export class ManualClock implements Clock {
  constructor(public t = 1_800_000_000_000) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): number {
    this.t += ms;
    return this.t;
  }
}

export interface TestServer extends RunningNode {
  readonly dataDir: string;
  client(userId: string, options?: Partial<ClientOptions>): Client;
  stop(): Promise<void>;
}

export async function startTestServer(
  options: {
    gateway?: Partial<GatewayConfig>;
    clock?: Clock;
    dataDir?: string;
    tls?: NodeOptions['tls'];
    inboxMaxEntries?: number;
    decorateStores?: NodeOptions['decorateStores'];
    groups?: NodeOptions['groups'];
    rooms?: NodeOptions['rooms'];
    pageBudgetBytes?: number;
    sendQuota?: NodeOptions['sendQuota'];
    scryptCost?: number;
    scryptQueue?: NodeOptions['scryptQueue'];
    logger?: NodeOptions['logger'];
    offline?: NodeOptions['offline'];
    contentFilter?: NodeOptions['contentFilter'];
  } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'tern-spec-'));
  const node = await startNode({
    dataDir,
    host: '127.0.0.1',
    port: 0,
    scryptCost: options.scryptCost ?? 2 ** 10,
    ...(options.scryptQueue ? { scryptQueue: options.scryptQueue } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.gateway ? { gateway: options.gateway } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.inboxMaxEntries ? { inboxMaxEntries: options.inboxMaxEntries } : {}),
    ...(options.decorateStores ? { decorateStores: options.decorateStores } : {}),
    ...(options.rooms ? { rooms: options.rooms } : {}),
    ...(options.groups ? { groups: options.groups } : {}),
    ...(options.pageBudgetBytes ? { pageBudgetBytes: options.pageBudgetBytes } : {}),
    ...(options.sendQuota ? { sendQuota: options.sendQuota } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.offline ? { offline: options.offline } : {}),
    ...(options.contentFilter ? { contentFilter: options.contentFilter } : {}),
  });
  const clients: Client[] = [];
  return {
    ...node,
    dataDir,
    client(userId, overrides = {}) {
      const client = new Client({
        endpoint: { host: '127.0.0.1', port: node.port },
        userId,
        deviceId: `${userId}-phone`,
        platform: Platform.ios,
        password: `pw-${userId}`,
        register: true,
        reconnect: { baseMs: 20, maxMs: 200 },
        ...overrides,
      });
      clients.push(client);
      return client;
    },
    async stop() {
      for (const client of clients) client.close();
      await node.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Resolves when `predicate` holds, checking after each event of `emitter` and on a short poll; rejects at the deadline. */
export function waitUntil(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (predicate()) return resolve();
    const started = Date.now();
    const poll = setInterval(() => {
      if (predicate()) {
        clearInterval(poll);
        resolve();
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(poll);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 5);
  });
}
