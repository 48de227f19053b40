/**
 * Conversation lists on Redis. Per user: one hash per conversation (peer, unread, readSeq,
 * lastSeq, updatedAt and the last message as JSON), a sorted set of conversation ids by
 * updatedAt for the list order, and the total unread count. Each update is one Lua script that
 * changes the conversation and the total together, so no reader ever sees one without the other
 * and concurrent updates from many nodes never lose one another (DESIGN §4, seed 003).
 */
import type { Redis } from 'ioredis';
import type { MessageRecord } from '../../protocol/bodies.ts';
import type { ConversationList, ConversationState, ConversationStore } from '../ports.ts';
import { toArray, toFields, toInt } from './errors.ts';
import type { Keys } from './keys.ts';
import { LuaScript } from './script.ts';
import { messages } from './values.ts';

/** KEYS: conversation, order, total. ARGV: conversationId, peer, seq, sentAt, message JSON, incoming (1/0). */
export const recordMessageScript = new LuaScript(
  'recordMessage',
  `local lastSeq = tonumber(redis.call('HGET', KEYS[1], 'lastSeq') or '-1')
if lastSeq < 0 then redis.call('HSET', KEYS[1], 'unread', 0, 'readSeq', 0) end
redis.call('HSET', KEYS[1], 'peer', ARGV[2])
if tonumber(ARGV[3]) > lastSeq then
  redis.call('HSET', KEYS[1], 'lastSeq', ARGV[3], 'updatedAt', ARGV[4], 'last', ARGV[5])
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
end
if ARGV[6] == '1' then
  redis.call('HINCRBY', KEYS[1], 'unread', 1)
  redis.call('INCR', KEYS[3])
end
return 1`,
);

/**
 * KEYS: conversation, total. ARGV: seq, cleared, expected rev ('' for any). Returns 1 when the
 * read mark moved, else 0 (not forward, or the rev changed since the caller counted `cleared`).
 */
export const markReadScript = new LuaScript(
  'markRead',
  `local state = redis.call('HMGET', KEYS[1], 'readSeq', 'unread', 'rev')
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
 * KEYS: conversation, total. ARGV: seq, message JSON, unreadDelta. The count moves only while the
 * message is after the read mark, decided here rather than from a read mark the caller saw.
 */
export const updateMessageScript = new LuaScript(
  'updateMessage',
  `local state = redis.call('HMGET', KEYS[1], 'unread', 'lastSeq', 'readSeq')
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

/** Recall claims outlive the recall window many times over; after it a recall is refused anyway. */
const RECALL_CLAIM_TTL_S = 24 * 3600;

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

export class RedisConversations implements ConversationStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  async recordMessage(userId: string, peer: string, message: MessageRecord, incoming: boolean): Promise<void> {
    const keys = [this.keys.conversation(userId, message.conversationId), this.keys.conversationOrder(userId), this.keys.totalUnread(userId)];
    await recordMessageScript.run(this.redis, keys, [message.conversationId, peer, message.seq, message.sentAt, messages.encode(message), incoming ? 1 : 0]);
  }

  async markRead(userId: string, conversationId: string, seq: number, cleared: number, expectedRev?: number): Promise<boolean> {
    const keys = [this.keys.conversation(userId, conversationId), this.keys.totalUnread(userId)];
    return toInt('markRead reply', await markReadScript.run(this.redis, keys, [seq, cleared, expectedRev ?? ''])) === 1;
  }

  async releaseRecall(conversationId: string, seq: number): Promise<void> {
    await this.redis.del(this.keys.recallClaim(conversationId, seq));
  }

  async claimRecall(conversationId: string, seq: number): Promise<boolean> {
    return (await this.redis.set(this.keys.recallClaim(conversationId, seq), '1', 'EX', RECALL_CLAIM_TTL_S, 'NX')) === 'OK';
  }

  async updateMessage(userId: string, message: MessageRecord, unreadDelta: number): Promise<void> {
    const keys = [this.keys.conversation(userId, message.conversationId), this.keys.totalUnread(userId)];
    await updateMessageScript.run(this.redis, keys, [message.seq, messages.encode(message), unreadDelta]);
  }

  async get(userId: string, conversationId: string): Promise<ConversationState | undefined> {
    return parseState(conversationId, await this.redis.hgetall(this.keys.conversation(userId, conversationId)));
  }

  async list(userId: string, limit: number): Promise<ConversationList> {
    const ids = await this.redis.zrevrange(this.keys.conversationOrder(userId), 0, limit - 1);
    // One transaction: the total and the conversations are read at one instant, so the total
    // matches the counts shown whenever the list holds all of the user's conversations.
    const multi = this.redis.multi().get(this.keys.totalUnread(userId));
    for (const id of ids) multi.hgetall(this.keys.conversation(userId, id));
    const replies = toArray('list transaction', await multi.exec());
    const values = replies.map((reply) => {
      const [error, value] = toArray('list reply', reply);
      if (error) throw error;
      return value;
    });
    const items: ConversationState[] = [];
    ids.forEach((id, i) => {
      const state = parseState(id, toFields('conversation hash', values[i + 1]));
      if (state) items.push(state);
    });
    return { items, totalUnread: values[0] === null ? 0 : toInt('total unread', values[0]) };
  }
}
