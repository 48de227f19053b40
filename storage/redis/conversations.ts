/**
 * Conversation lists on Redis. Per user: one hash per conversation (peer, unread, readSeq,
 * lastSeq, updatedAt and the last message as JSON), a sorted set of conversation ids by
 * updatedAt for the list order, and the total unread count. Each update is one Lua script that
 * changes the conversation and the total together, so no reader ever sees one without the other
 * and concurrent updates from many nodes never lose one another (DESIGN §4, seed 003).
 *
 * Two modes. The Redis store (`RedisConversations`) is the system of record and reads and
 * writes the rows as they are. The production store keeps them durably elsewhere and uses Redis
 * as the hot copy (`HotConversations` with `requireLoaded`): every script first checks the
 * user's "loaded" key and answers `unloaded` without writing when it is missing, so the caller
 * rebuilds the rows (`load`) and tries again; no write ever lands on a half-empty copy. A loaded
 * row carries `base`, the last seq the rebuild counted, and a message at or below it is not
 * counted again; `kept` says the row is known to be stored durably.
 */
import type { Redis } from 'ioredis';
import type { MessageRecord } from '../../protocol/bodies.ts';
import type { ConversationList, ConversationState, ConversationStore } from '../ports.ts';
import { corrupt, toArray, toFields, toInt } from './errors.ts';
import type { Keys } from './keys.ts';
import { LuaScript } from './script.ts';
import { messages } from './values.ts';

/** The loaded check every script starts with; ARGV[n] is '1' when the check applies. */
const unloaded = (keyIndex: number, argIndex: number) => `if ARGV[${argIndex}] == '1' and redis.call('EXISTS', KEYS[${keyIndex}]) == 0 then return -1 end\n`;

/**
 * KEYS: conversation, order, total, loaded. ARGV: conversationId, peer, seq, sentAt, message JSON,
 * incoming (1/0), require loaded (1/0). Returns -1 when not loaded, 0 when the row is not marked
 * kept, 1 otherwise.
 */
export const recordMessageScript = new LuaScript(
  'recordMessage',
  `${unloaded(4, 7)}local state = redis.call('HMGET', KEYS[1], 'lastSeq', 'base', 'kept')
local lastSeq = tonumber(state[1] or '-1')
if lastSeq < 0 then redis.call('HSET', KEYS[1], 'unread', 0, 'readSeq', 0) end
redis.call('HSET', KEYS[1], 'peer', ARGV[2])
if tonumber(ARGV[3]) > lastSeq then
  redis.call('HSET', KEYS[1], 'lastSeq', ARGV[3], 'updatedAt', ARGV[4], 'last', ARGV[5])
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
end
if ARGV[6] == '1' and tonumber(ARGV[3]) > tonumber(state[2] or '0') then
  redis.call('HINCRBY', KEYS[1], 'unread', 1)
  redis.call('INCR', KEYS[3])
end
if state[3] then return 1 end
return 0`,
);

/**
 * KEYS: conversation, total, loaded. ARGV: seq, cleared, expected rev ('' for any), require
 * loaded. Returns 1 when the read mark moved, 0 when not (not forward, or the rev changed since
 * the caller counted `cleared`), -1 when not loaded.
 */
export const markReadScript = new LuaScript(
  'markRead',
  `${unloaded(3, 4)}local state = redis.call('HMGET', KEYS[1], 'readSeq', 'unread', 'rev')
if not state[1] or tonumber(ARGV[1]) <= tonumber(state[1]) then return 0 end
local rev = tonumber(state[3] or '0')
if ARGV[3] ~= '' and tonumber(ARGV[3]) ~= rev then return 0 end
local unread = tonumber(state[2])
local take = math.max(0, math.min(tonumber(ARGV[2]), unread))
redis.call('HSET', KEYS[1], 'readSeq', ARGV[1], 'unread', unread - take, 'rev', rev + 1)
redis.call('DECRBY', KEYS[2], take)
return 1`,
);

/**
 * KEYS: conversation, total, loaded. ARGV: seq, message JSON, unreadDelta, require loaded. The
 * count moves only while the message is after the read mark, decided here rather than from a
 * read mark the caller saw. -1 when not loaded.
 */
export const updateMessageScript = new LuaScript(
  'updateMessage',
  `${unloaded(3, 4)}local state = redis.call('HMGET', KEYS[1], 'unread', 'lastSeq', 'readSeq')
if not state[1] then return 0 end
local take = 0
if tonumber(ARGV[1]) > tonumber(state[3]) then take = math.max(0, math.min(tonumber(ARGV[3]), tonumber(state[1]))) end
if tonumber(state[2]) == tonumber(ARGV[1]) then redis.call('HSET', KEYS[1], 'last', ARGV[2]) end
if take > 0 then
  redis.call('HINCRBY', KEYS[1], 'unread', -take)
  redis.call('HINCRBY', KEYS[1], 'rev', 1)
  redis.call('DECRBY', KEYS[2], take)
end
return 1`,
);

/**
 * KEYS: conversation, total. ARGV: unread, expected rev, expected last seq. Sets a row's count
 * to one recounted from history, if the row has not changed since it was read (check-and-set),
 * and makes the last seq its base as a rebuild does. 1 when set, 0 when the row changed or is missing.
 */
export const setUnreadScript = new LuaScript(
  'setUnread',
  `local state = redis.call('HMGET', KEYS[1], 'unread', 'rev', 'lastSeq')
if not state[1] or tonumber(state[2] or '0') ~= tonumber(ARGV[2]) or tonumber(state[3]) ~= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'unread', ARGV[1], 'base', ARGV[3], 'rev', tonumber(state[2] or '0') + 1)
redis.call('INCRBY', KEYS[2], tonumber(ARGV[1]) - tonumber(state[1]))
return 1`,
);

const LOAD_FIELDS = 7;

/**
 * KEYS: loaded, order, total, then one conversation key per row. ARGV: rev, then per row
 * conversationId, peer, unread, readSeq, lastSeq, updatedAt, last message JSON ('' for none).
 * Writes the rows, the order, the total and the loaded key at once, unless loaded already
 * (another node rebuilt first): 1 when it wrote, 0 when not.
 */
export const loadConversationsScript = new LuaScript(
  'loadConversations',
  `if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2], KEYS[3])
local total = 0
for i = 4, #KEYS do
  local a = 2 + (i - 4) * ${LOAD_FIELDS}
  redis.call('DEL', KEYS[i])
  redis.call('HSET', KEYS[i], 'peer', ARGV[a + 1], 'unread', ARGV[a + 2], 'readSeq', ARGV[a + 3], 'lastSeq', ARGV[a + 4], 'updatedAt', ARGV[a + 5], 'base', ARGV[a + 4], 'kept', 1, 'rev', ARGV[1])
  if ARGV[a + 6] ~= '' then redis.call('HSET', KEYS[i], 'last', ARGV[a + 6]) end
  redis.call('ZADD', KEYS[2], ARGV[a + 5], ARGV[a])
  total = total + tonumber(ARGV[a + 2])
end
redis.call('SET', KEYS[3], total)
redis.call('SET', KEYS[1], '1')
return 1`,
);

export const conversationScripts: readonly LuaScript[] = [recordMessageScript, markReadScript, updateMessageScript, setUnreadScript, loadConversationsScript];

/** Recall claims outlive the recall window many times over; after it a recall is refused anyway. */
const RECALL_CLAIM_TTL_S = 24 * 3600;

/** A rebuilt row, as `load` writes it. */
export type LoadedConversation = Omit<ConversationState, 'rev'>;

export type Unloaded = 'unloaded';
export const UNLOADED: Unloaded = 'unloaded';

function parseState(conversationId: string, fields: Record<string, string>): ConversationState | undefined {
  if (fields.peer === undefined) return undefined;
  return {
    conversationId,
    peer: fields.peer,
    unread: toInt('unread count', fields.unread),
    readSeq: toInt('read mark', fields.readSeq),
    lastSeq: toInt('last seq', fields.lastSeq),
    updatedAt: toInt('updatedAt', fields.updatedAt),
    ...(fields.rev === undefined ? {} : { rev: toInt('rev', fields.rev) }),
    ...(fields.last === undefined ? {} : { lastMessage: messages.decode(fields.last) }),
  };
}

/** Replies of a MULTI, each checked for its own error. */
function execReplies(replies: unknown): unknown[] {
  return toArray('transaction', replies).map((reply) => {
    const [error, value] = toArray('transaction reply', reply);
    if (error) throw error;
    return value;
  });
}

/** The scripts and reads, with `unloaded` answers when `requireLoaded` and the user's rows are not in Redis. */
export class HotConversations {
  private readonly flag: string;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly requireLoaded: boolean,
  ) {
    this.flag = requireLoaded ? '1' : '0';
  }

  /** 'unkept' when the row is not marked kept (a new row, or one whose durable write failed). */
  async recordMessage(userId: string, peer: string, message: MessageRecord, incoming: boolean): Promise<'kept' | 'unkept' | Unloaded> {
    const keys = [this.keys.conversation(userId, message.conversationId), this.keys.conversationOrder(userId), this.keys.totalUnread(userId), this.keys.conversationsLoaded(userId)];
    const reply = toInt('recordMessage reply', await recordMessageScript.run(this.redis, keys, [message.conversationId, peer, message.seq, message.sentAt, messages.encode(message), incoming ? 1 : 0, this.flag]));
    return reply < 0 ? UNLOADED : reply === 1 ? 'kept' : 'unkept';
  }

  async markKept(userId: string, conversationId: string): Promise<void> {
    await this.redis.hset(this.keys.conversation(userId, conversationId), 'kept', 1);
  }

  async markRead(userId: string, conversationId: string, seq: number, cleared: number, expectedRev?: number): Promise<boolean | Unloaded> {
    const keys = [this.keys.conversation(userId, conversationId), this.keys.totalUnread(userId), this.keys.conversationsLoaded(userId)];
    const reply = toInt('markRead reply', await markReadScript.run(this.redis, keys, [seq, cleared, expectedRev ?? '', this.flag]));
    return reply < 0 ? UNLOADED : reply === 1;
  }

  async updateMessage(userId: string, message: MessageRecord, unreadDelta: number): Promise<void | Unloaded> {
    const keys = [this.keys.conversation(userId, message.conversationId), this.keys.totalUnread(userId), this.keys.conversationsLoaded(userId)];
    const reply = toInt('updateMessage reply', await updateMessageScript.run(this.redis, keys, [message.seq, messages.encode(message), unreadDelta, this.flag]));
    return reply < 0 ? UNLOADED : undefined;
  }

  async releaseRecall(conversationId: string, seq: number): Promise<void> {
    await this.redis.del(this.keys.recallClaim(conversationId, seq));
  }

  async claimRecall(conversationId: string, seq: number): Promise<boolean> {
    return (await this.redis.set(this.keys.recallClaim(conversationId, seq), '1', 'EX', RECALL_CLAIM_TTL_S, 'NX')) === 'OK';
  }

  async get(userId: string, conversationId: string): Promise<ConversationState | undefined | Unloaded> {
    const key = this.keys.conversation(userId, conversationId);
    if (!this.requireLoaded) return parseState(conversationId, await this.redis.hgetall(key));
    const [loaded, fields] = execReplies(await this.redis.multi().exists(this.keys.conversationsLoaded(userId)).hgetall(key).exec());
    return loaded === 0 ? UNLOADED : parseState(conversationId, toFields('conversation hash', fields));
  }

  async list(userId: string, limit: number): Promise<ConversationList | Unloaded> {
    const ids = await this.redis.zrevrange(this.keys.conversationOrder(userId), 0, limit - 1);
    // One transaction: the total and the conversations are read at one instant, so the total
    // matches the counts shown whenever the list holds all of the user's conversations.
    const multi = this.redis.multi().exists(this.keys.conversationsLoaded(userId)).get(this.keys.totalUnread(userId));
    for (const id of ids) multi.hgetall(this.keys.conversation(userId, id));
    const values = execReplies(await multi.exec());
    if (this.requireLoaded && values[0] === 0) return UNLOADED;
    const items: ConversationState[] = [];
    ids.forEach((id, i) => {
      const state = parseState(id, toFields('conversation hash', values[i + 2]));
      if (state) items.push(state);
    });
    return { items, totalUnread: values[1] === null ? 0 : toInt('total unread', values[1]) };
  }

  /** Writes rebuilt rows and marks the user loaded, unless another caller did first; `rev` starts every row's rev. */
  async load(userId: string, rows: readonly LoadedConversation[], rev: number): Promise<boolean> {
    const keys = [this.keys.conversationsLoaded(userId), this.keys.conversationOrder(userId), this.keys.totalUnread(userId), ...rows.map((r) => this.keys.conversation(userId, r.conversationId))];
    const args = rows.flatMap((r) => [r.conversationId, r.peer, r.unread, r.readSeq, r.lastSeq, r.updatedAt, r.lastMessage ? messages.encode(r.lastMessage) : '']);
    return toInt('load reply', await loadConversationsScript.run(this.redis, keys, [rev, ...args])) === 1;
  }

  /** Sets a recounted unread count unless the row changed since `rev` and `lastSeq` were read; false when it did. */
  async setUnread(userId: string, conversationId: string, unread: number, rev: number, lastSeq: number): Promise<boolean> {
    const keys = [this.keys.conversation(userId, conversationId), this.keys.totalUnread(userId)];
    return toInt('setUnread reply', await setUnreadScript.run(this.redis, keys, [unread, rev, lastSeq])) === 1;
  }

  /** Forgets that the user's rows are loaded: the next access rebuilds them from what is durable. */
  async unload(userId: string): Promise<void> {
    await this.redis.del(this.keys.conversationsLoaded(userId));
  }
}

function loaded<T>(reply: T | Unloaded): T {
  // Only a store built with requireLoaded answers unloaded.
  if (reply === UNLOADED) throw corrupt('unloaded reply', reply);
  return reply;
}

/** The Redis store's conversations: Redis is the system of record, rows are used as they are. */
export class RedisConversations implements ConversationStore {
  private readonly hot: HotConversations;

  constructor(redis: Redis, keys: Keys) {
    this.hot = new HotConversations(redis, keys, false);
  }

  async recordMessage(userId: string, peer: string, message: MessageRecord, incoming: boolean): Promise<void> {
    loaded(await this.hot.recordMessage(userId, peer, message, incoming));
  }

  async markRead(userId: string, conversationId: string, seq: number, cleared: number, expectedRev?: number): Promise<boolean> {
    return loaded(await this.hot.markRead(userId, conversationId, seq, cleared, expectedRev));
  }

  async updateMessage(userId: string, message: MessageRecord, unreadDelta: number): Promise<void> {
    loaded(await this.hot.updateMessage(userId, message, unreadDelta));
  }

  claimRecall(conversationId: string, seq: number): Promise<boolean> {
    return this.hot.claimRecall(conversationId, seq);
  }

  releaseRecall(conversationId: string, seq: number): Promise<void> {
    return this.hot.releaseRecall(conversationId, seq);
  }

  async get(userId: string, conversationId: string): Promise<ConversationState | undefined> {
    return loaded(await this.hot.get(userId, conversationId));
  }

  async list(userId: string, limit: number): Promise<ConversationList> {
    return loaded(await this.hot.list(userId, limit));
  }
}
