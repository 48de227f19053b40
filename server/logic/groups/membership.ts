/**
 * Group membership and settings: create, invite, join, leave, remove, roles, mutes, updates and
 * dissolution. Each change is checked against the rights table, committed with the timeline
 * event that tells of it, and delivered to the members in timeline order. Changes of one group
 * run one at a time, so a check (member limit, roles) always sees the result of the change before.
 */
import { GroupEventKind, GroupRole, MAX_PAGE_ENTRIES, type BodyOf } from '../../../protocol/bodies.ts';
import { ErrorCode, ProtocolError } from '../../../protocol/errors.ts';
import type { AccountStore, GroupChange, GroupMemberState, GroupState, GroupStore } from '../../../storage/ports.ts';
import type { SessionInfo } from '../../seam.ts';
import type { Clock } from '../clock.ts';
import { checkUserId, newMessageId } from '../ids.ts';
import { KnownUsers } from '../known-users.ts';
import type { GroupDelivery } from './delivery.ts';
import { checkRight } from './rights.ts';
import { KeyedSerial } from '../../../storage/keyed-serial.ts';

export interface GroupLimits {
  /** Members per group (SPEC §15: 4002 beyond it). */
  readonly maxMembers: number;
  /** Groups per user (4003 beyond it). */
  readonly maxGroupsPerUser: number;
  /** Groups of at most this many members are write-diffused (§18.4); 0 = none. */
  readonly writeDiffusionMaxMembers: number;
  /** Read receipts are served for groups of at most this many members (4009 above). */
  readonly receiptsMaxMembers: number;
}

export const DEFAULT_GROUP_LIMITS: GroupLimits = { maxMembers: 100_000, maxGroupsPerUser: 500, writeDiffusionMaxMembers: 0, receiptsMaxMembers: 500 };

const DEFAULT_MEMBER_PAGE = 100;

type Ok = BodyOf<'ok'>;

export class GroupMembership {
  private readonly serial = new KeyedSerial();
  private readonly users: KnownUsers;

  constructor(
    private readonly groups: GroupStore,
    accounts: AccountStore,
    private readonly clock: Clock,
    private readonly delivery: GroupDelivery,
    private readonly limits: GroupLimits,
  ) {
    this.users = new KnownUsers(accounts);
  }

  async create(session: SessionInfo, body: BodyOf<'groupCreate'>): Promise<BodyOf<'groupInfo'>> {
    const invited = await this.newMembers(undefined, body.members.filter((userId) => userId !== session.userId));
    const members = [session.userId, ...invited];
    if (members.length > this.limits.maxMembers) throw new ProtocolError(ErrorCode.groupFull, `a group has at most ${this.limits.maxMembers} members`);
    const now = this.clock.now();
    const groupId = newMessageId(now);
    const group = {
      groupId,
      name: body.name,
      notice: '',
      owner: session.userId,
      open: body.open ?? false,
      mutedAll: false,
      noMedia: false,
      historyForNewMembers: body.historyForNewMembers ?? false,
      createdAt: now,
      writeDiffused: members.length <= this.limits.writeDiffusionMaxMembers,
    };
    const change: GroupChange = {
      kind: 'create',
      group,
      members: members.map((userId) => ({ userId, role: userId === session.userId ? GroupRole.owner : GroupRole.member, joinedAt: now, mutedUntil: 0 })),
    };
    await this.commit(session, groupId, change, GroupEventKind.created, { name: body.name, users: members }, members);
    return this.info(session, { groupId });
  }

  async get(session: SessionInfo, body: BodyOf<'groupGet'>): Promise<BodyOf<'groupInfo'>> {
    return this.info(session, body);
  }

  async members(session: SessionInfo, body: BodyOf<'groupMembers'>): Promise<BodyOf<'groupMemberPage'>> {
    await this.memberOf(session.userId, body.groupId);
    const limit = Math.max(1, Math.min(body.limit || DEFAULT_MEMBER_PAGE, MAX_PAGE_ENTRIES));
    const page = await this.groups.members(body.groupId, body.after, limit);
    return {
      groupId: body.groupId,
      members: page.members.map(({ userId, role, joinedAt, mutedUntil }) => ({ userId, role, joinedAt, mutedUntil })),
      hasMore: page.hasMore,
    };
  }

  invite(session: SessionInfo, body: BodyOf<'groupInvite'>): Promise<Ok> {
    return this.serial.run(body.groupId, async () => {
      const { group, member } = await this.memberOf(session.userId, body.groupId);
      checkRight('invite', member.role, { open: group.open });
      const added = await this.newMembers(group, body.members);
      if (added.length === 0) return {};
      const now = this.clock.now();
      const members = added.map((userId) => ({ userId, role: GroupRole.member, joinedAt: now, mutedUntil: 0 }));
      await this.commit(session, group.groupId, { kind: 'addMembers', members }, GroupEventKind.membersAdded, { users: added }, []);
      return {};
    });
  }

  join(session: SessionInfo, body: BodyOf<'groupJoin'>): Promise<BodyOf<'groupInfo'>> {
    return this.serial.run(body.groupId, async () => {
      const group = await this.groups.get(body.groupId);
      if (!group || group.memberCount === 0) throw new ProtocolError(ErrorCode.notFound, 'no such group');
      if (await this.groups.member(body.groupId, session.userId)) return this.info(session, body);
      if (!group.open) throw new ProtocolError(ErrorCode.groupClosed);
      await this.newMembers(group, [session.userId]);
      const members = [{ userId: session.userId, role: GroupRole.member, joinedAt: this.clock.now(), mutedUntil: 0 }];
      await this.commit(session, group.groupId, { kind: 'addMembers', members }, GroupEventKind.membersAdded, { users: [session.userId] }, []);
      return this.info(session, body);
    });
  }

  leave(session: SessionInfo, body: BodyOf<'groupLeave'>): Promise<Ok> {
    return this.serial.run(body.groupId, async () => {
      const { group, member } = await this.memberOf(session.userId, body.groupId);
      checkRight('leave', member.role);
      await this.commit(session, group.groupId, { kind: 'removeMember', userId: session.userId }, GroupEventKind.memberLeft, { user: session.userId }, [session.userId]);
      return {};
    });
  }

  remove(session: SessionInfo, body: BodyOf<'groupRemove'>): Promise<Ok> {
    return this.serial.run(body.groupId, async () => {
      const { group, member, target } = await this.actorAndTarget(session, body.groupId, body.userId);
      checkRight('remove', member.role, { targetRole: target.role });
      await this.commit(session, group.groupId, { kind: 'removeMember', userId: target.userId }, GroupEventKind.memberRemoved, { user: target.userId }, [target.userId]);
      return {};
    });
  }

  setRole(session: SessionInfo, body: BodyOf<'groupSetRole'>): Promise<Ok> {
    return this.serial.run(body.groupId, async () => {
      if (!Object.values(GroupRole).includes(body.role as never)) throw new ProtocolError(ErrorCode.badBody, `role ${body.role} is not a GroupRole`);
      const { group, member, target } = await this.actorAndTarget(session, body.groupId, body.userId);
      if (body.role === GroupRole.owner) {
        checkRight('transfer', member.role, { targetRole: target.role });
        const change: GroupChange = { kind: 'transfer', from: session.userId, to: target.userId, fromRole: GroupRole.admin };
        await this.commit(session, group.groupId, change, GroupEventKind.roleChanged, { user: target.userId, role: GroupRole.owner, previousOwner: session.userId }, []);
        return {};
      }
      checkRight('setRole', member.role, { targetRole: target.role });
      if (target.role === body.role) return {};
      await this.commit(session, group.groupId, { kind: 'updateMember', userId: target.userId, role: body.role }, GroupEventKind.roleChanged, { user: target.userId, role: body.role }, []);
      return {};
    });
  }

  mute(session: SessionInfo, body: BodyOf<'groupMute'>): Promise<Ok> {
    return this.serial.run(body.groupId, async () => {
      const { group, member, target } = await this.actorAndTarget(session, body.groupId, body.userId);
      checkRight('mute', member.role, { targetRole: target.role });
      const change: GroupChange = { kind: 'updateMember', userId: target.userId, mutedUntil: body.mutedUntil };
      await this.commit(session, group.groupId, change, GroupEventKind.muteChanged, { user: target.userId, mutedUntil: body.mutedUntil }, []);
      return {};
    });
  }

  update(session: SessionInfo, body: BodyOf<'groupUpdate'>): Promise<Ok> {
    return this.serial.run(body.groupId, async () => {
      const { group, member } = await this.memberOf(session.userId, body.groupId);
      checkRight('update', member.role);
      const { groupId: _groupId, ...requested } = body;
      const fields = Object.fromEntries(Object.entries(requested).filter(([key, value]) => value !== undefined && group[key as keyof GroupState] !== value));
      if (Object.keys(fields).length === 0) return {};
      await this.commit(session, group.groupId, { kind: 'updateGroup', fields }, GroupEventKind.groupUpdated, fields, []);
      return {};
    });
  }

  dissolve(session: SessionInfo, body: BodyOf<'groupDissolve'>): Promise<Ok> {
    return this.serial.run(body.groupId, async () => {
      const { group, member } = await this.memberOf(session.userId, body.groupId);
      checkRight('dissolve', member.role);
      const everyone = await this.groups.memberIds(body.groupId);
      await this.commit(session, group.groupId, { kind: 'dissolve' }, GroupEventKind.dissolved, {}, [...everyone]);
      return {};
    });
  }

  /** The group and the user's membership; 4001 for a non-member whether or not the group exists. */
  async memberOf(userId: string, groupId: string): Promise<{ group: GroupState; member: GroupMemberState }> {
    const member = await this.groups.member(groupId, userId);
    const group = member && (await this.groups.get(groupId));
    if (!member || !group) throw new ProtocolError(ErrorCode.notGroupMember);
    return { group, member };
  }

  private async info(session: SessionInfo, body: { readonly groupId: string }): Promise<BodyOf<'groupInfo'>> {
    const { group, member } = await this.memberOf(session.userId, body.groupId);
    const { writeDiffused: _writeDiffused, ...visible } = group;
    return { ...visible, role: member.role, visibleFromSeq: group.historyForNewMembers ? 1 : member.joinSeq };
  }

  private async actorAndTarget(session: SessionInfo, groupId: string, targetId: string) {
    const { group, member } = await this.memberOf(session.userId, groupId);
    if (targetId === session.userId) throw new ProtocolError(ErrorCode.groupRightMissing, 'this action needs another member as target');
    const target = await this.groups.member(groupId, targetId);
    if (!target) throw new ProtocolError(ErrorCode.notFound, `user "${targetId}" is not a member of the group`);
    return { group, member, target };
  }

  /** Users to add: existing accounts not yet members, each under the per-user group limit, within the member limit. */
  private async newMembers(group: GroupState | undefined, userIds: readonly string[]): Promise<string[]> {
    const unique = [...new Set(userIds.map(checkUserId))];
    const added: string[] = [];
    for (const userId of unique) {
      if (group && (await this.groups.member(group.groupId, userId))) continue;
      const exists = this.users.exists(userId);
      if (!(exists === true || (await exists))) throw new ProtocolError(ErrorCode.notFound, `user "${userId}" does not exist`);
      if ((await this.groups.groupsOf(userId)).length >= this.limits.maxGroupsPerUser) {
        throw new ProtocolError(ErrorCode.tooManyGroups, `user "${userId}" is in ${this.limits.maxGroupsPerUser} groups already`);
      }
      added.push(userId);
    }
    if (group && group.memberCount + added.length > this.limits.maxMembers) throw new ProtocolError(ErrorCode.groupFull, `a group has at most ${this.limits.maxMembers} members`);
    return added;
  }

  /** Commits the change with its event, then delivers the event to the members after it (and to `alsoTell`). */
  private async commit(session: SessionInfo, groupId: string, change: GroupChange, kind: number, details: object, alsoTell: readonly string[]): Promise<void> {
    const sentAt = this.clock.now();
    const event = { messageId: newMessageId(sentAt), from: session.userId, to: groupId, kind, content: JSON.stringify(details), sentAt, clientMsgId: `event:${kind}` };
    const committing = this.groups.change(groupId, change, event).then(async (message) => ({
      message,
      recipients: [...(await this.groups.memberIds(groupId)), ...alsoTell],
    }));
    await this.delivery.inOrder(groupId, committing, session, (delivery) => delivery);
  }
}
