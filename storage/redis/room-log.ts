/**
 * The room log on Redis: a counter per room (INCR, never expired, so a seq is never reused while
 * Redis keeps its data) and a sorted set of the room's reliable messages scored by seq, trimmed
 * to the newest `maxEntries` on every append by the same script. Each member is
 * `<append time>|<positional JSON of the message>`; reads skip members older than the retention.
 */
import type { Redis } from 'ioredis';
import { RoomMessage, type RoomMessageRecord } from '../../protocol/bodies.ts';
import type { RoomLogPage, RoomLogState, RoomLogStore } from '../ports.ts';
import { corrupt, toArray, toInt } from './errors.ts';
import type { Keys } from './keys.ts';
import { LuaScript } from './script.ts';

/** KEYS: counter, log. ARGV: the message's JSON without its closing seq, max entries, now. Returns the seq. */
export const roomAppendScript = new LuaScript(
  'room-append',
  `local seq = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], seq, ARGV[3] .. '|' .. ARGV[1] .. seq .. ']')
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[2]) + 1))
return seq`,
);

export interface RedisRoomLogLimits {
  readonly maxEntries: number;
  readonly retentionMs: number;
  readonly now: () => number;
}

export class RedisRoomLog implements RoomLogStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly limits: RedisRoomLogLimits,
  ) {}

  async append(roomId: string, message: Omit<RoomMessageRecord, 'seq'>): Promise<RoomMessageRecord> {
    const wire = JSON.stringify(RoomMessage.toWire({ ...message, seq: 0 }));
    // The seq is the last element: the script appends it after the prefix that ends with a comma.
    const prefix = `${wire.slice(0, wire.lastIndexOf(','))},`;
    const seq = toInt('room seq', await roomAppendScript.run(this.redis, this.logKeys(roomId), [prefix, this.limits.maxEntries, this.limits.now()]));
    return { ...message, seq };
  }

  async range(roomId: string, afterSeq: number, limit: number): Promise<RoomLogPage> {
    const [state, members] = await Promise.all([
      this.state(roomId),
      this.redis.zrangebyscore(this.keys.roomLog(roomId), `(${afterSeq}`, '+inf', 'LIMIT', '0', String(limit + 1)),
    ]);
    const cutoff = this.limits.now() - this.limits.retentionMs;
    const messages = toArray('room log', members)
      .map((member) => this.decode(String(member)))
      .filter((entry) => entry.at >= cutoff && entry.message.seq >= state.oldestSeq)
      .map((entry) => entry.message);
    return { ...state, messages: messages.slice(0, limit), hasMore: messages.length > limit };
  }

  async state(roomId: string): Promise<RoomLogState> {
    const [latest, first] = await Promise.all([this.redis.get(this.keys.roomSeq(roomId)), this.redis.zrange(this.keys.roomLog(roomId), '0', '0')]);
    const latestSeq = latest === null ? 0 : toInt('room seq', latest);
    const head = first[0];
    const cutoff = this.limits.now() - this.limits.retentionMs;
    let oldestSeq = latestSeq + 1;
    if (head !== undefined) {
      const entry = this.decode(head);
      // An expired head means older rows expired too; the next append's trim removes them.
      oldestSeq = entry.at >= cutoff ? entry.message.seq : latestSeq + 1;
    }
    return { latestSeq, oldestSeq: Math.max(1, Math.min(oldestSeq, latestSeq + 1)) };
  }

  private logKeys(roomId: string): string[] {
    return [this.keys.roomSeq(roomId), this.keys.roomLog(roomId)];
  }

  private decode(member: string): { at: number; message: RoomMessageRecord } {
    const bar = member.indexOf('|');
    try {
      return { at: Number(member.slice(0, bar)), message: RoomMessage.check(JSON.parse(member.slice(bar + 1)), 'room message') };
    } catch {
      throw corrupt('room log member', member);
    }
  }
}
