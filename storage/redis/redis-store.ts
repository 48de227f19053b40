/**
 * Every storage port on Redis. In production Redis keeps the hot state (tokens, inboxes, cursors,
 * dedup, conversation lists) and Cassandra the durable data (storage/production.ts); this store
 * also keeps accounts, sequences and history in Redis, which suits development, tests and
 * deployments that accept Redis persistence (AOF) as the system of record. Its sequences are a
 * plain INCR: a Redis that restarts empty starts them over (see storage/README.md).
 *
 * Durability: every method resolves once Redis has applied the write. Commands on one connection
 * run in order, so `durable()` is a PING: it answers after every write issued before it. Whether
 * an applied write survives a crash is the server's `appendfsync` policy (everysec: up to one
 * second may be lost).
 */
import { ComposedMessageStore } from '../composed-commit.ts';
import { ComposedGroupStore } from '../composed-groups.ts';
import { raiseFieldScript, RedisGroupDirectory } from './groups.ts';
import type { Redis } from 'ioredis';
import type { MessageRecord } from '../../protocol/bodies.ts';
import type {
  Account,
  AccountStore,
  DedupRecord,
  DedupStore,
  HiddenStore,
  ModerationStore,
  Sanctions,
  HistoryPage,
  HistoryStore,
  SequenceStore,
  Stores,
  TokenRecord,
  TokenStore,
} from '../ports.ts';
import { NO_SANCTIONS } from '../ports.ts';
import { connectRedis, type RedisConnection } from './connect.ts';
import { conversationScripts, RedisConversations } from './conversations.ts';
import { toArray, toInt } from './errors.ts';
import { RedisInbox, inboxScripts } from './inbox.ts';
import { DEFAULT_KEY_PREFIX, Keys } from './keys.ts';
import { LuaScript } from './script.ts';
import { RedisRoomLog, roomAppendScript } from './room-log.ts';
import { Limits } from '../../protocol/timers.ts';
import * as values from './values.ts';

export interface RedisStoreOptions extends RedisConnection {
  /** Put before every key: separates tenants, and test runs, on one server. Default `tern:`. */
  readonly keyPrefix?: string;
  /** Inbox entries kept per user. Default 10,000. */
  readonly inboxMaxEntries?: number;
  /** An inbox without appends for this long is dropped. Default 7 days. */
  readonly inboxRetentionSeconds?: number;
  /** How long one inbox entry is kept. Default 7 days. */
  readonly inboxRetentionMs?: number;
  /** The clock that stamps and expires inbox entries; tests replace it. */
  readonly now?: () => number;
  /** How long a client message id is remembered for dedup. Default 7 days. */
  readonly dedupTtlSeconds?: number;
}

const WEEK_SECONDS = 7 * 24 * 3600;

export class RedisAccounts implements AccountStore {
  constructor(private readonly redis: Redis, private readonly keys: Keys) {}
  async create(account: Account): Promise<boolean> {
    return (await this.redis.set(this.keys.account(account.userId), values.accounts.encode(account), 'NX')) === 'OK';
  }
  async get(userId: string): Promise<Account | undefined> {
    const stored = await this.redis.get(this.keys.account(userId));
    return stored === null ? undefined : values.accounts.decode(stored);
  }
}

/** Tokens expire in Redis when they do for the logic, so revoked or stale ones never pile up. */
export class RedisTokens implements TokenStore {
  constructor(private readonly redis: Redis, private readonly keys: Keys) {}
  async put(tokenHash: string, record: TokenRecord): Promise<void> {
    await this.redis.set(this.keys.token(tokenHash), values.tokens.encode(record), 'PXAT', record.expiresAt);
  }
  async get(tokenHash: string): Promise<TokenRecord | undefined> {
    const stored = await this.redis.get(this.keys.token(tokenHash));
    return stored === null ? undefined : values.tokens.decode(stored);
  }
  async revoke(tokenHash: string): Promise<void> {
    await this.redis.del(this.keys.token(tokenHash));
  }
}

class RedisSequences implements SequenceStore {
  constructor(private readonly redis: Redis, private readonly keys: Keys) {}
  async next(conversationId: string): Promise<number> {
    return this.redis.incr(this.keys.sequence(conversationId));
  }
}

/** KEYS: index, messages. ARGV: beforeSeq (exclusive; '+inf' for the newest), count. Newest first. */
const historyPageScript = new LuaScript(
  'historyPage',
  `local seqs = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[1], '-inf', 'LIMIT', 0, ARGV[2])
if #seqs == 0 then return {} end
return redis.call('HMGET', KEYS[2], unpack(seqs))`,
);

/** History as a hash seq → message and a sorted set of the seqs, for pages by range. */
class RedisHistory implements HistoryStore {
  constructor(private readonly redis: Redis, private readonly keys: Keys) {}
  async put(message: MessageRecord): Promise<void> {
    const { conversationId, seq } = message;
    await this.redis
      .multi()
      .hset(this.keys.historyMessages(conversationId), seq, values.messages.encode(message))
      .zadd(this.keys.historyIndex(conversationId), seq, seq)
      .exec();
  }
  async get(conversationId: string, seq: number): Promise<MessageRecord | undefined> {
    const stored = await this.redis.hget(this.keys.historyMessages(conversationId), String(seq));
    return stored === null ? undefined : values.messages.decode(stored);
  }
  async page(conversationId: string, beforeSeq: number | undefined, limit: number): Promise<HistoryPage> {
    const keys = [this.keys.historyIndex(conversationId), this.keys.historyMessages(conversationId)];
    const before = beforeSeq === undefined ? '+inf' : `(${beforeSeq}`;
    const stored = toArray('history page', await historyPageScript.run(this.redis, keys, [before, limit + 1]));
    const messages = stored.map((value) => values.messages.decode(String(value)));
    return { messages: messages.slice(0, limit), hasMore: messages.length > limit };
  }
}

class RedisDedup implements DedupStore {
  constructor(private readonly redis: Redis, private readonly keys: Keys, private readonly ttlSeconds: number) {}
  async get(userId: string, clientMsgId: string): Promise<DedupRecord | undefined> {
    const stored = await this.redis.get(this.keys.dedup(userId, clientMsgId));
    return stored === null ? undefined : values.dedups.decode(stored);
  }
  async put(userId: string, clientMsgId: string, record: DedupRecord): Promise<void> {
    await this.redis.set(this.keys.dedup(userId, clientMsgId), values.dedups.encode(record), 'EX', this.ttlSeconds);
  }
  async claim(userId: string, clientMsgId: string, record: DedupRecord): Promise<DedupRecord | undefined> {
    // SET NX GET (Redis ≥ 7.0): stores only when absent and answers what was there, atomically.
    const previous = await this.redis.set(this.keys.dedup(userId, clientMsgId), values.dedups.encode(record), 'EX', this.ttlSeconds, 'NX', 'GET');
    return previous === null ? undefined : values.dedups.decode(previous);
  }
}

class RedisHidden implements HiddenStore {
  constructor(private readonly redis: Redis, private readonly keys: Keys) {}
  async hide(userId: string, conversationId: string, seq: number): Promise<void> {
    await this.redis.sadd(this.keys.hidden(userId, conversationId), seq);
  }
  async isHidden(userId: string, conversationId: string, seq: number): Promise<boolean> {
    return toInt('SISMEMBER reply', await this.redis.sismember(this.keys.hidden(userId, conversationId), seq)) === 1;
  }
}

/** `mute:{user}` → "mutedUntil textOnlyUntil", expiring with the later of the two. */
class RedisModeration implements ModerationStore {
  constructor(private readonly redis: Redis, private readonly keys: Keys) {}
  async set(userId: string, sanctions: Sanctions): Promise<void> {
    const until = Math.max(sanctions.mutedUntil, sanctions.textOnlyUntil);
    if (until <= 0) await this.redis.del(this.keys.muted(userId));
    else await this.redis.set(this.keys.muted(userId), `${Math.max(0, sanctions.mutedUntil)} ${Math.max(0, sanctions.textOnlyUntil)}`, 'PXAT', until);
  }
  async get(userId: string): Promise<Sanctions> {
    const value = await this.redis.get(this.keys.muted(userId));
    if (value === null) return NO_SANCTIONS;
    const [muted, textOnly] = value.split(' ');
    return { mutedUntil: toInt('mute value', muted ?? ''), textOnlyUntil: toInt('mute value', textOnly ?? '') };
  }
}

export const redisScripts: readonly LuaScript[] = [...conversationScripts, historyPageScript, raiseFieldScript, roomAppendScript, ...inboxScripts];

/** Builds the ports on an open connection; `close()` closes that connection. */
export function redisPorts(redis: Redis, options: RedisStoreOptions = {}): Stores {
  const keys = new Keys(options.keyPrefix ?? DEFAULT_KEY_PREFIX);
  const parts = {
    sequences: new RedisSequences(redis, keys),
    history: new RedisHistory(redis, keys),
    inbox: new RedisInbox(redis, keys, {
      maxEntries: options.inboxMaxEntries ?? 10_000,
      retentionSeconds: options.inboxRetentionSeconds ?? WEEK_SECONDS,
      entryRetentionMs: options.inboxRetentionMs ?? WEEK_SECONDS * 1000,
      now: options.now ?? Date.now,
    }),
    dedup: new RedisDedup(redis, keys, options.dedupTtlSeconds ?? WEEK_SECONDS),
    conversations: new RedisConversations(redis, keys),
    durable: async () => {
      await redis.ping();
    },
  };
  return {
    ...parts,
    messages: new ComposedMessageStore(parts),
    roomLog: new RedisRoomLog(redis, keys, { maxEntries: Limits.roomLogEntries, retentionMs: Limits.roomLogRetentionMs, now: options.now ?? Date.now }),
    groups: new ComposedGroupStore(new RedisGroupDirectory(redis, keys), parts),
    accounts: new RedisAccounts(redis, keys),
    tokens: new RedisTokens(redis, keys),
    hidden: new RedisHidden(redis, keys),
    moderation: new RedisModeration(redis, keys),
    close: async () => {
      await redis.quit();
    },
  };
}

export async function openRedisStore(options: RedisStoreOptions = {}): Promise<Stores> {
  return redisPorts(await connectRedis(options, redisScripts), options);
}
