/**
 * Group settings and membership in Redis: a hash per group (settings, a membership version that
 * every change bumps, the last seq), a hash of members, a hash of read seqs and a set of groups
 * per user. Read seqs and the last seq only move forward, in a script. The timeline itself is in
 * the history store (storage/composed-groups.ts).
 */
import type { Redis } from 'ioredis';
import type { GroupMemberState } from '../ports.ts';
import type { Keys } from './keys.ts';
import { LuaScript } from './script.ts';
import * as values from './values.ts';
import type { StoredGroup, StoredMember } from './values.ts';

/** HSET field to value when value is greater than what is stored (or nothing is); 1 when it moved. */
export const raiseFieldScript = new LuaScript(
  'raiseField',
  `local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '-1')
if tonumber(ARGV[2]) > current then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0`,
);

export interface LoadedGroup {
  readonly state: StoredGroup;
  readonly version: number;
  readonly members: StoredMember[];
}

export class RedisGroupDirectory {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /** The membership version; a cached member list is current while it is unchanged. */
  async version(groupId: string): Promise<number> {
    return Number((await this.redis.hget(this.keys.group(groupId), 'v')) ?? 0);
  }

  async load(groupId: string): Promise<LoadedGroup | undefined> {
    const [[, group], [, members]] = (await this.redis.multi().hmget(this.keys.group(groupId), 'state', 'v').hvals(this.keys.groupMembers(groupId)).exec()) as [[null, (string | null)[]], [null, string[]]];
    const [state, version] = group;
    if (!state) return undefined;
    return { state: values.groups.decode(state), version: Number(version ?? 0), members: members.map((m) => values.members.decode(m)) };
  }

  async saveState(groupId: string, state: StoredGroup): Promise<void> {
    await this.redis.multi().hset(this.keys.group(groupId), 'state', values.groups.encode(state)).hincrby(this.keys.group(groupId), 'v', 1).exec();
  }

  /** Adds or replaces members; `readSeqs` sets the read seq of newly added ones. */
  async saveMembers(groupId: string, members: readonly StoredMember[], readSeqs: ReadonlyMap<string, number> = new Map()): Promise<void> {
    const multi = this.redis.multi();
    for (const member of members) {
      multi.hset(this.keys.groupMembers(groupId), member.userId, values.members.encode(member));
      multi.sadd(this.keys.userGroups(member.userId), groupId);
    }
    for (const [userId, seq] of readSeqs) multi.hset(this.keys.groupReadSeqs(groupId), userId, seq);
    multi.hincrby(this.keys.group(groupId), 'v', 1);
    await multi.exec();
  }

  async removeMembers(groupId: string, userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return;
    const multi = this.redis.multi().hdel(this.keys.groupMembers(groupId), ...userIds).hdel(this.keys.groupReadSeqs(groupId), ...userIds);
    for (const userId of userIds) multi.srem(this.keys.userGroups(userId), groupId);
    multi.hincrby(this.keys.group(groupId), 'v', 1);
    await multi.exec();
  }

  async groupsOf(userId: string): Promise<string[]> {
    return this.redis.smembers(this.keys.userGroups(userId));
  }

  async readSeq(groupId: string, userId: string): Promise<number> {
    return Number((await this.redis.hget(this.keys.groupReadSeqs(groupId), userId)) ?? 0);
  }

  async readSeqs(groupId: string): Promise<ReadonlyMap<string, number>> {
    const stored = await this.redis.hgetall(this.keys.groupReadSeqs(groupId));
    return new Map(Object.entries(stored).map(([userId, seq]) => [userId, Number(seq)]));
  }

  async raiseReadSeq(groupId: string, userId: string, seq: number): Promise<boolean> {
    return (await raiseFieldScript.run(this.redis, [this.keys.groupReadSeqs(groupId)], [userId, seq])) === 1;
  }

  async lastSeq(groupId: string): Promise<number> {
    return Number((await this.redis.hget(this.keys.group(groupId), 'last')) ?? 0);
  }

  async raiseLastSeq(groupId: string, seq: number): Promise<void> {
    await raiseFieldScript.run(this.redis, [this.keys.group(groupId)], ['last', seq]);
  }
}

export function withReadSeq(member: StoredMember, readSeq: number): GroupMemberState {
  return { ...member, readSeq };
}
