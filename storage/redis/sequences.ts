/**
 * Conversation sequences that never go back: a Redis counter for speed, bounded by blocks
 * reserved durably elsewhere (Cassandra: storage/cassandra/sequence-blocks.ts).
 *
 * Per conversation Redis holds a hash {e: the server's run_id when the counter was seeded,
 * t: a token naming this seeding, v: the last seq handed out, c: the end of the current block}.
 * `next` hands out v + 1 while it stays within c. The counter is trusted only in the server
 * lifetime that seeded it: after any restart (an empty start, an AOF that lost its last second,
 * a failover to a replica) the run_id differs, and so it does after a FLUSHALL or an eviction
 * (no hash). Then the counter restarts from a block reserved afresh, which lies above every block
 * reserved before, and so above every seq ever handed out. A seeding carries the token it was
 * asked for, so a seeding that arrives late (a slow reserver, a command ioredis resends after a
 * reconnect) never resets a counter that moved on. See storage/README.md for the alternatives.
 */
import type { Redis } from 'ioredis';
import type { SequenceStore } from '../ports.ts';
import { RedisStoreError, toArray, toInt, toStringReply } from './errors.ts';
import type { Keys } from './keys.ts';
import { LuaScript } from './script.ts';

/** Seqs after `after` up to and including `upTo`, reserved for one conversation. */
export interface SequenceBlock {
  readonly after: number;
  readonly upTo: number;
}

export interface SequenceReserver {
  /** Reserves the next `size` seqs of a conversation; blocks never overlap and only move up. */
  reserve(conversationId: string, size: number): Promise<SequenceBlock>;
}

const RUN_ID = `local epoch = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')`;

/** KEYS: counter. Returns {seq, token}, or {0, token} when a block must be reserved first. */
export const nextSeqScript = new LuaScript(
  'nextSeq',
  `${RUN_ID}
local s = redis.call('HMGET', KEYS[1], 'e', 't', 'v', 'c')
if s[1] ~= epoch then
  local now = redis.call('TIME')
  local token = epoch .. ':' .. now[1] .. '.' .. now[2]
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'e', epoch, 't', token, 'v', 0, 'c', 0)
  return {0, token}
end
local v = tonumber(s[3]) + 1
if v > tonumber(s[4]) then return {0, s[2]} end
redis.call('HSET', KEYS[1], 'v', v)
return {v, s[2]}`,
);

/** KEYS: counter. ARGV: token, after, upTo. Installs the block unless the token is stale or a later block is in place. */
export const seedSeqScript = new LuaScript(
  'seedSeq',
  `local s = redis.call('HMGET', KEYS[1], 't', 'v', 'c')
if s[1] ~= ARGV[1] then return 0 end
if tonumber(s[3]) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'v', math.max(tonumber(s[2]), tonumber(ARGV[2])), 'c', ARGV[3])
return 1`,
);

/** Rounds of "reserve a block, then take a seq" before giving up; each lost round means other callers got seqs. */
const MAX_ROUNDS = 50;

export class BlockSequences implements SequenceStore {
  /** One reservation at a time per conversation in this process; callers that need one share it. */
  private readonly refills = new Map<string, Promise<void>>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly reserver: SequenceReserver,
    private readonly blockSize: number,
  ) {}

  async next(conversationId: string): Promise<number> {
    const key = this.keys.sequence(conversationId);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const [seq, token] = toArray('nextSeq reply', await nextSeqScript.run(this.redis, [key], []));
      const value = toInt('seq', seq);
      if (value > 0) return value;
      await this.refill(conversationId, key, toStringReply('seq token', token));
    }
    throw new RedisStoreError('unavailable', `no sequence for ${conversationId} after ${MAX_ROUNDS} block reservations`);
  }

  private refill(conversationId: string, key: string, token: string): Promise<void> {
    let running = this.refills.get(conversationId);
    if (!running) {
      running = this.reserveAndSeed(conversationId, key, token).finally(() => this.refills.delete(conversationId));
      this.refills.set(conversationId, running);
    }
    return running;
  }

  private async reserveAndSeed(conversationId: string, key: string, token: string): Promise<void> {
    const block = await this.reserver.reserve(conversationId, this.blockSize);
    await seedSeqScript.run(this.redis, [key], [token, block.after, block.upTo]);
  }
}
