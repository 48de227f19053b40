/**
 * The group directory of the production store: what a group is (settings, members, each user's
 * groups, read seqs) on Cassandra, so it survives the loss of Redis; the hot parts on Redis (the
 * membership version nodes check their caches against, the last seq, read seqs raised in a
 * script). A read seq Redis lost is read back from Cassandra and put back before it is raised,
 * so it never moves backwards; the last seq is rebuilt from the timeline (composed-groups.ts).
 */
import type { GroupDirectory } from './composed-groups.ts';
import type { CassandraGroups } from './cassandra/groups.ts';
import type { RedisGroupDirectory } from './redis/groups.ts';
import type { StoredGroup, StoredMember } from './redis/values.ts';

export class ProductionGroupDirectory implements GroupDirectory {
  constructor(
    private readonly durable: CassandraGroups,
    private readonly hot: RedisGroupDirectory,
  ) {}

  version(groupId: string): Promise<string> {
    return this.hot.version(groupId);
  }

  async load(groupId: string): Promise<{ state: StoredGroup; version: string; members: StoredMember[] } | undefined> {
    // The version first: a change that lands while the rows are read makes the next check reload.
    const version = await this.hot.version(groupId);
    const state = await this.durable.state(groupId);
    if (!state) return undefined;
    return { state, version, members: await this.durable.members(groupId) };
  }

  async saveState(groupId: string, state: StoredGroup): Promise<void> {
    await this.durable.saveState(groupId, state);
    await this.hot.bump(groupId);
  }

  async saveMembers(groupId: string, members: readonly StoredMember[], readSeqs: ReadonlyMap<string, number> = new Map()): Promise<void> {
    await this.durable.saveMembers(groupId, members, readSeqs);
    for (const [userId, seq] of readSeqs) await this.hot.seedReadSeq(groupId, userId, seq);
    await this.hot.bump(groupId);
  }

  async removeMembers(groupId: string, userIds: readonly string[]): Promise<void> {
    await this.durable.removeMembers(groupId, userIds);
    await this.hot.bump(groupId);
  }

  groupsOf(userId: string): Promise<string[]> {
    return this.durable.groupsOf(userId);
  }

  async readSeq(groupId: string, userId: string): Promise<number> {
    const hot = await this.hot.storedReadSeq(groupId, userId);
    if (hot !== undefined) return hot;
    const kept = (await this.durable.readSeq(groupId, userId)) ?? 0;
    await this.hot.seedReadSeq(groupId, userId, kept);
    return kept;
  }

  async raiseReadSeq(groupId: string, userId: string, seq: number): Promise<boolean> {
    await this.readSeq(groupId, userId);
    if (!(await this.hot.raiseReadSeq(groupId, userId, seq))) return false;
    await this.durable.putReadSeq(groupId, userId, seq);
    return true;
  }

  async readSeqs(groupId: string): Promise<ReadonlyMap<string, number>> {
    const [kept, hot] = await Promise.all([this.durable.readSeqs(groupId), this.hot.readSeqs(groupId)]);
    const merged = new Map(kept);
    for (const [userId, seq] of hot) merged.set(userId, Math.max(seq, merged.get(userId) ?? 0));
    return merged;
  }

  lastSeq(groupId: string): Promise<number> {
    return this.hot.lastSeq(groupId);
  }

  raiseLastSeq(groupId: string, seq: number): Promise<void> {
    return this.hot.raiseLastSeq(groupId, seq);
  }
}
