/**
 * Where the integration tests find Redis and Cassandra, and the check that fails them with a
 * clear message, never a skip, when a server is not running.
 */
import { randomBytes } from 'node:crypto';
import cassandra from 'cassandra-driver';
import type { Redis } from 'ioredis';
import { openCassandraStore, type CassandraPorts } from '../../storage/cassandra/cassandra-store.ts';
import { CassandraStoreError } from '../../storage/cassandra/errors.ts';
import { connectRedis } from '../../storage/redis/connect.ts';

function port(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0 || value > 65535) throw new Error(`${name} must be a TCP port, got ${process.env[name]}`);
  return value;
}

export const redisAt = { host: '127.0.0.1', port: port('REDIS_PORT', 6379) };
export const cassandraAt = { host: '127.0.0.1', port: port('CASSANDRA_PORT', 9042) };

/** A name no other run or test shares: key prefixes, tenants, keyspace suffixes. */
export function uniqueName(label: string): string {
  return `${label}${randomBytes(4).toString('hex')}`;
}

/** A connection to the test Redis, or an error that says how to start one. */
export async function requireRedis(): Promise<Redis> {
  try {
    return await connectRedis({ ...redisAt, connectTimeoutMs: 2_000 });
  } catch (error) {
    throw new Error(`Redis is not running on ${redisAt.host}:${redisAt.port}: start it with ops/redis/start.sh`, { cause: error });
  }
}

/** Deletes every key under a prefix (SCAN, so the server is never blocked). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** Opens the Cassandra store on a keyspace of its own, or fails with how to start a node. */
export async function requireCassandra(keyspace: string): Promise<CassandraPorts> {
  try {
    return await openCassandraStore({ contactPoints: [`${cassandraAt.host}:${cassandraAt.port}`], keyspace, connectTimeoutMs: 3_000 });
  } catch (error) {
    if (error instanceof CassandraStoreError && error.code === 'unavailable') {
      throw new Error(`Cassandra is not running on ${cassandraAt.host}:${cassandraAt.port}: start it with ops/cassandra/start.sh`, { cause: error });
    }
    throw error;
  }
}

/** Drops a keyspace the tests created. */
export async function dropKeyspace(keyspace: string): Promise<void> {
  const client = new cassandra.Client({ contactPoints: [`${cassandraAt.host}:${cassandraAt.port}`], localDataCenter: 'datacenter1' });
  try {
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
  } finally {
    await client.shutdown();
  }
}

/**
 * Mocha hooks for a suite that needs Redis and one throwaway Cassandra keyspace: both are checked
 * (failing with a clear message when down) and the keyspace created before the suite, and the
 * keyspace dropped after it. `admin()` is a Redis connection for cleaning up keys.
 */
export function useServices(keyspace: string): { admin(): Redis } {
  let admin: Redis | undefined;
  let created = false;
  before(async () => {
    admin = await requireRedis();
    await (await requireCassandra(keyspace)).close();
    created = true;
  });
  after(async () => {
    await admin?.quit();
    if (created) await dropKeyspace(keyspace);
  });
  return {
    admin() {
      if (!admin) throw new Error('Redis is not connected yet');
      return admin;
    },
  };
}
