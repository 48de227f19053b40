/**
 * Group settings, members, users' group lists and read seqs on Cassandra: what a group is must
 * survive the loss of Redis, which holds only the hot copies (storage/production-groups.ts).
 * Values are the JSON of the records Redis keeps (storage/redis/values.ts), so both read alike.
 */
import * as values from '../redis/values.ts';
import type { StoredGroup, StoredMember } from '../redis/values.ts';
import { toNumber, toText } from './errors.ts';
import { tenantKey } from './history.ts';
import { readSeqWriteTime } from './read-seqs.ts';
import type { Session } from './session.ts';

export class CassandraGroups {
  private readonly q: Record<'putState' | 'getState' | 'putMember' | 'removeMember' | 'members' | 'addUserGroup' | 'removeUserGroup' | 'userGroups' | 'putReadSeq' | 'readSeqs' | 'readSeq', string>;

  constructor(
    private readonly session: Session,
    keyspace: string,
    private readonly tenant: string,
  ) {
    const ks = keyspace;
    this.q = {
      putState: `INSERT INTO ${ks}.chat_groups (group_id, state) VALUES (?, ?)`,
      getState: `SELECT state FROM ${ks}.chat_groups WHERE group_id = ?`,
      putMember: `INSERT INTO ${ks}.group_members (group_id, user_id, member) VALUES (?, ?, ?)`,
      removeMember: `DELETE FROM ${ks}.group_members WHERE group_id = ? AND user_id = ?`,
      members: `SELECT member FROM ${ks}.group_members WHERE group_id = ?`,
      addUserGroup: `INSERT INTO ${ks}.user_groups (user_id, group_id) VALUES (?, ?)`,
      removeUserGroup: `DELETE FROM ${ks}.user_groups WHERE user_id = ? AND group_id = ?`,
      userGroups: `SELECT group_id FROM ${ks}.user_groups WHERE user_id = ?`,
      putReadSeq: `UPDATE ${ks}.group_read_seqs USING TIMESTAMP ? SET read_seq = ? WHERE group_id = ? AND user_id = ?`,
      readSeqs: `SELECT user_id, read_seq FROM ${ks}.group_read_seqs WHERE group_id = ?`,
      readSeq: `SELECT read_seq FROM ${ks}.group_read_seqs WHERE group_id = ? AND user_id = ?`,
    };
  }

  async state(groupId: string): Promise<StoredGroup | undefined> {
    const [row] = await this.session.read(this.q.getState, [this.key(groupId)]);
    return row === undefined ? undefined : values.groups.decode(toText('state', row.get('state')));
  }

  async members(groupId: string): Promise<StoredMember[]> {
    const rows = await this.session.readAll(this.q.members, [this.key(groupId)]);
    return rows.map((row) => values.members.decode(toText('member', row.get('member'))));
  }

  async saveState(groupId: string, state: StoredGroup): Promise<void> {
    await this.session.write(this.q.putState, [this.key(groupId), values.groups.encode(state)]);
  }

  async saveMembers(groupId: string, members: readonly StoredMember[], readSeqs: ReadonlyMap<string, number>): Promise<void> {
    await Promise.all([
      ...members.flatMap((m) => [
        this.session.write(this.q.putMember, [this.key(groupId), m.userId, values.members.encode(m)]),
        this.session.write(this.q.addUserGroup, [this.key(m.userId), groupId]),
      ]),
      ...[...readSeqs].map(([userId, seq]) => this.putReadSeq(groupId, userId, seq)),
    ]);
  }

  async removeMembers(groupId: string, userIds: readonly string[]): Promise<void> {
    await Promise.all(userIds.flatMap((userId) => [this.session.write(this.q.removeMember, [this.key(groupId), userId]), this.session.write(this.q.removeUserGroup, [this.key(userId), groupId])]));
  }

  async groupsOf(userId: string): Promise<string[]> {
    const rows = await this.session.readAll(this.q.userGroups, [this.key(userId)]);
    return rows.map((row) => toText('group_id', row.get('group_id')));
  }

  /** The highest read seq written wins, in any order of arrival (read-seqs.ts): what a Redis loss falls back to. */
  async putReadSeq(groupId: string, userId: string, seq: number): Promise<void> {
    await this.session.write(this.q.putReadSeq, [readSeqWriteTime(seq), BigInt(seq), this.key(groupId), userId]);
  }

  async readSeqs(groupId: string): Promise<Map<string, number>> {
    const rows = await this.session.readAll(this.q.readSeqs, [this.key(groupId)]);
    return new Map(rows.map((row) => [toText('user_id', row.get('user_id')), toNumber('read_seq', row.get('read_seq'))]));
  }

  async readSeq(groupId: string, userId: string): Promise<number | undefined> {
    const [row] = await this.session.read(this.q.readSeq, [this.key(groupId), userId]);
    return row === undefined ? undefined : toNumber('read_seq', row.get('read_seq'));
  }

  private key(id: string): string {
    return tenantKey(this.tenant, id);
  }
}
