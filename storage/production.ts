/**
 * The production store: Redis for hot state (tokens, inboxes, cursors, dedup, the hot copy of
 * conversation lists with unread counts, sequence counters) and Cassandra for durable data
 * (accounts, history, delete-for-me marks, sequence block reservations, groups, and each user's
 * conversations with their read seqs, from which with history Redis's copy is rebuilt when it is
 * lost). DESIGN §1; storage/README.md.
 *
 * Durability: every method resolves only after its writes are acknowledged (by Redis, or by
 * Cassandra at the configured consistency level), so once the logic has awaited its writes
 * nothing is left for `durable()` to wait for; it still waits for writes in flight, on both
 * servers, to honour the ports' contract. What Redis acknowledges survives a Redis crash per its
 * `appendfsync` policy; what Cassandra acknowledges is on a quorum of replicas.
 */
import type { Redis } from 'ioredis';
import { ComposedMessageStore } from './composed-commit.ts';
import { ComposedGroupStore } from './composed-groups.ts';
import { ProductionConversations } from './production-conversations.ts';
import { ProductionGroupDirectory } from './production-groups.ts';
import { RedisGroupDirectory } from './redis/groups.ts';
import type { Stores } from './ports.ts';
import { openCassandraStore, type CassandraStoreOptions } from './cassandra/cassandra-store.ts';
import { connectRedis } from './redis/connect.ts';
import { HotConversations } from './redis/conversations.ts';
import { DEFAULT_KEY_PREFIX, Keys } from './redis/keys.ts';
import { redisPorts, redisScripts, type RedisStoreOptions } from './redis/redis-store.ts';
import { BlockSequences, nextSeqScript, seedSeqScript } from './redis/sequences.ts';

export interface ProductionStoreOptions {
  readonly redis?: RedisStoreOptions;
  readonly cassandra?: CassandraStoreOptions;
  /**
   * Seqs reserved in Cassandra at a time per conversation: one lightweight transaction per block.
   * A Redis that loses its counters skips what is left of each active block. Default 1000.
   */
  readonly sequenceBlockSize?: number;
}

export async function openProductionStore(options: ProductionStoreOptions = {}): Promise<Stores> {
  const redisOptions = options.redis ?? {};
  const durable = await openCassandraStore(options.cassandra);
  let redis: Redis;
  try {
    redis = await connectRedis(redisOptions, [...redisScripts, nextSeqScript, seedSeqScript]);
  } catch (error) {
    await durable.close();
    throw error;
  }
  const hot = redisPorts(redis, redisOptions);
  const keys = new Keys(redisOptions.keyPrefix ?? DEFAULT_KEY_PREFIX);
  const parts = {
    sequences: new BlockSequences(redis, keys, durable.sequenceBlocks, options.sequenceBlockSize ?? 1000),
    history: durable.history,
    inbox: hot.inbox,
    dedup: hot.dedup,
    conversations: new ProductionConversations(new HotConversations(redis, keys, true), durable.conversations, durable.history, redisOptions.now ?? Date.now),
    durable: async () => {
      await Promise.all([hot.durable(), durable.durable()]);
    },
  };
  return {
    ...parts,
    messages: new ComposedMessageStore(parts),
    roomLog: hot.roomLog,
    groups: new ComposedGroupStore(new ProductionGroupDirectory(durable.groups, new RedisGroupDirectory(redis, keys)), parts),
    accounts: durable.accounts,
    tokens: hot.tokens,
    hidden: durable.hidden,
    moderation: hot.moderation,
    close: async () => {
      await Promise.all([hot.close(), durable.close()]);
    },
  };
}
