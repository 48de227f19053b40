/**
 * Opens the storage ports and the routing a node runs on: the embedded store with in-memory
 * routing (one node), or the production store (Redis + Cassandra) with routing through Redis,
 * which lets many nodes share the same users.
 */
import { randomBytes } from 'node:crypto';
import type { Stores } from '../storage/ports.ts';
import { openEmbeddedStore } from '../storage/embedded/embedded-store.ts';
import { openProductionStore } from '../storage/production.ts';
import type { RedisConnection } from '../storage/redis/connect.ts';
import { RedisRouting } from './routing/redis.ts';
import { LocalRouting } from './routing/local.ts';
import type { Routing } from './routing/port.ts';
import { LocalRoomBroadcast, type RoomBroadcast } from './logic/rooms/broadcast.ts';
import { RedisRoomBroadcast } from '../storage/redis/room-broadcast.ts';

export interface EmbeddedStoreConfig {
  readonly kind: 'embedded';
  readonly dataDir: string;
  readonly inboxMaxEntries?: number;
}

export interface ProductionStoreConfig {
  readonly kind: 'production';
  /** redis://host:port[/db] */
  readonly redisUrl: string;
  /** Cassandra contact points, `host:port`. */
  readonly cassandra: readonly string[];
  readonly keyspace: string;
  /** Partition-key tenant in Cassandra; empty for none. */
  readonly tenant: string;
  /** Prefix of every Redis key and channel. */
  readonly keyPrefix: string;
  /** This node's id among the nodes sharing Redis; random when absent. */
  readonly nodeId?: string;
  readonly inboxMaxEntries?: number;
}

export type StoreConfig = EmbeddedStoreConfig | ProductionStoreConfig;

export interface OpenedStores {
  readonly stores: Stores;
  readonly routing: Routing;
  /** Where room messages are published: this node only, or a channel per room that every node hears. */
  readonly roomBroadcast: RoomBroadcast;
  /** Closes the routing and the broadcast, then the stores. */
  close(): Promise<void>;
}

/** host, port and db of a redis:// URL. */
export function redisConnection(url: string): RedisConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--redis-url must be redis://host:port[/db], got "${url}"`);
  }
  if (parsed.protocol !== 'redis:') throw new Error(`--redis-url must be redis://host:port[/db], got "${url}"`);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new Error(`--redis-url database must be a number, got "${db}"`);
  return { host: parsed.hostname || '127.0.0.1', port: parsed.port ? Number(parsed.port) : 6379, ...(db ? { db: Number(db) } : {}) };
}

export async function openStores(config: StoreConfig, onError: (error: unknown) => void): Promise<OpenedStores> {
  if (config.kind === 'embedded') {
    const stores = openEmbeddedStore({ path: config.dataDir, ...(config.inboxMaxEntries ? { inboxMaxEntries: config.inboxMaxEntries } : {}) });
    const routing = new LocalRouting();
    return { stores, routing, roomBroadcast: new LocalRoomBroadcast(), close: () => stores.close() };
  }
  const redis = redisConnection(config.redisUrl);
  const stores = await openProductionStore({
    redis: { ...redis, keyPrefix: config.keyPrefix, ...(config.inboxMaxEntries ? { inboxMaxEntries: config.inboxMaxEntries } : {}) },
    cassandra: { contactPoints: config.cassandra, keyspace: config.keyspace, tenant: config.tenant },
  });
  const nodeId = config.nodeId ?? randomBytes(6).toString('hex');
  let routing: RedisRouting;
  let roomBroadcast: RedisRoomBroadcast;
  try {
    routing = await RedisRouting.open({ ...redis, keyPrefix: config.keyPrefix, nodeId, onError });
  } catch (error) {
    await stores.close();
    throw error;
  }
  try {
    roomBroadcast = await RedisRoomBroadcast.open({ ...redis, keyPrefix: config.keyPrefix, nodeId, onError });
  } catch (error) {
    await routing.close();
    await stores.close();
    throw error;
  }
  return {
    stores,
    routing,
    roomBroadcast,
    close: async () => {
      await Promise.all([routing.close(), roomBroadcast.close()]);
      await stores.close();
    },
  };
}
