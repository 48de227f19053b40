/**
 * A group's timeline as its members use it: posting, catching up from a cursor, history, read
 * marks and the group rows of the conversation list. A message is stored once in the timeline
 * (read diffusion); a member's unread count is the timeline's last seq minus their read seq.
 */
import { EntryType, GROUP_EVENT_KIND_BASE, MAX_PAGE_ENTRIES, Message, TEXT_KIND, type BodyOf, type ConversationRecord, type MessageRecord } from '../../../protocol/bodies.ts';
import { ErrorCode, ProtocolError } from '../../../protocol/errors.ts';
import { wireSize } from '../../../protocol/wire-size.ts';
import { groupConversationId } from '../../../protocol/conversation-ids.ts';
import type { GroupMemberState, GroupState, GroupStore, Stores } from '../../../storage/ports.ts';
import type { SessionInfo } from '../../seam.ts';
import type { Clock } from '../clock.ts';
import { newMessageId } from '../ids.ts';
import type { AfterSend, Fanout } from '../messaging.ts';
import { PageFill, type PageBudget } from '../page-budget.ts';
import type { PreSend } from '../pre-send.ts';
import type { GroupDelivery } from './delivery.ts';
import type { GroupMembership } from './membership.ts';


const DEFAULT_SYNC_MESSAGES = 200;

/** What group pages share with the 1:1 ones: the page budget, hidden messages, history pages (sync.ts). */
export interface GroupPages {
  readonly budget: PageBudget;
  visible(userId: string, messages: MessageRecord[]): Promise<MessageRecord[]>;
  history(userId: string, body: BodyOf<'history'>, fromSeq: number): Promise<BodyOf<'historyPage'>>;
}

export { groupIdOf } from '../../../protocol/conversation-ids.ts';

/** The first seq a member may read: their join, unless the group opens its history to new members. */
export function visibleFrom(group: GroupState, member: GroupMemberState): number {
  return group.historyForNewMembers ? 1 : member.joinSeq;
}

type Deps = Pick<Stores, 'inbox' | 'history' | 'hidden' | 'durable'>;

export class GroupTimeline {
  constructor(
    private readonly groups: GroupStore,
    private readonly stores: Deps,
    private readonly membership: GroupMembership,
    private readonly clock: Clock,
    private readonly delivery: GroupDelivery,
    private readonly fanout: Fanout,
    private readonly preSend: PreSend,
    private readonly pages: GroupPages,
    private readonly afterSend: AfterSend = () => undefined,
  ) {}

  async send(session: SessionInfo, body: BodyOf<'groupSend'>): Promise<BodyOf<'sendAck'>> {
    if (body.kind >= GROUP_EVENT_KIND_BASE) throw new ProtocolError(ErrorCode.badBody, `kinds from ${GROUP_EVENT_KIND_BASE} are server events`);
    const sanctions = this.preSend.sanctions(session.userId);
    const { group, member } = await this.membership.memberOf(session.userId, body.groupId);
    const now = this.clock.now();
    if (member.mutedUntil > now) throw new ProtocolError(ErrorCode.groupMuted, `you are muted in this group until ${member.mutedUntil}`);
    if (group.mutedAll && member.role > 2) throw new ProtocolError(ErrorCode.groupMuted, 'the group is muted for members');
    if (group.noMedia && body.kind !== TEXT_KIND) throw new ProtocolError(ErrorCode.groupNoMedia);
    const content = this.preSend.admit(session.userId, await sanctions, body);
    return this.post(body.groupId, session.userId, { ...body, content }, session);
  }

  /**
   * A post from the system sender (the admin API), who is no member: stored on the timeline like
   * a member's post and pushed to every member's devices; the pre-send check applies to it too.
   */
  async systemPost(groupId: string, sender: string, body: { clientMsgId: string; kind: number; content: string }): Promise<BodyOf<'sendAck'>> {
    if (body.kind >= GROUP_EVENT_KIND_BASE) throw new ProtocolError(ErrorCode.badBody, `kinds from ${GROUP_EVENT_KIND_BASE} are server events`);
    if (!(await this.groups.get(groupId))) throw new ProtocolError(ErrorCode.notFound, `no group "${groupId}"`);
    const content = this.preSend.admit(sender, await this.preSend.sanctions(sender), body);
    return this.post(groupId, sender, { ...body, content }, undefined);
  }

  private async post(groupId: string, from: string, body: { clientMsgId: string; kind: number; content: string }, actor: SessionInfo | undefined): Promise<BodyOf<'sendAck'>> {
    const now = this.clock.now();
    const committing = this.groups
      .post(groupId, { messageId: newMessageId(now), from, to: groupId, kind: body.kind, content: body.content, sentAt: now, clientMsgId: body.clientMsgId })
      .then(async (post) => ({ post, recipients: post.fresh ? await this.groups.memberIds(groupId) : [] }));
    const { post } = await this.delivery.inOrder(groupId, committing, actor, ({ post: p, recipients }) =>
      p.fresh ? { message: p.message, recipients, versions: p.versions } : undefined,
    );
    const { message } = post;
    if (post.fresh) this.afterSend(message);
    const own = post.versions.get(from);
    return { messageId: message.messageId, conversationId: message.conversationId, seq: message.seq, serverTime: message.sentAt, version: own?.version ?? 0, ...(own ? { epoch: own.epoch } : {}) };
  }

  /** Entries after each cursor, group by group, up to the entry limit and the page budget (as sync pages). */
  async sync(session: SessionInfo, body: BodyOf<'groupSync'>): Promise<BodyOf<'groupSyncPage'>> {
    let room = Math.max(1, Math.min(body.limit || DEFAULT_SYNC_MESSAGES, MAX_PAGE_ENTRIES));
    const fill = new PageFill(this.pages.budget);
    const messages: MessageRecord[] = [];
    let hasMore = false;
    let full = false;
    for (const cursor of body.cursors) {
      if (room === 0 || full) {
        hasMore = true;
        break;
      }
      const member = await this.groups.member(cursor.groupId, session.userId);
      const group = member && (await this.groups.get(cursor.groupId));
      if (!member || !group) continue;
      const after = Math.max(cursor.afterSeq, visibleFrom(group, member) - 1);
      if (after >= group.lastSeq) continue;
      const rows = await this.groups.timeline(cursor.groupId, after, room);
      for (const message of await this.pages.visible(session.userId, rows)) {
        full = !fill.add(wireSize(Message.wire, message));
        if (fill.count > messages.length) messages.push(message);
        if (full) break;
      }
      room -= rows.length;
      if (full) break;
      if (rows.at(-1) !== undefined && (rows.at(-1) as MessageRecord).seq < group.lastSeq) hasMore = true;
    }
    if (messages.length === 0 && full) throw new ProtocolError(ErrorCode.internal, 'a group entry is larger than a frame');
    return { messages, hasMore: hasMore || full };
  }

  /** A history page of the group from the member's first visible seq on. */
  async history(session: SessionInfo, groupId: string, body: BodyOf<'history'>): Promise<BodyOf<'historyPage'>> {
    const { group, member } = await this.membership.memberOf(session.userId, groupId);
    return this.pages.history(session.userId, body, visibleFrom(group, member));
  }

  /** For each seq, how many members other than its poster have read up to it (small groups only). */
  async receipts(session: SessionInfo, body: BodyOf<'groupReceipts'>, maxMembers: number): Promise<BodyOf<'groupReceiptCounts'>> {
    const { group } = await this.membership.memberOf(session.userId, body.groupId);
    if (group.memberCount > maxMembers) throw new ProtocolError(ErrorCode.receiptsNotServed, `read receipts are served for groups of at most ${maxMembers} members`);
    const readSeqs = [...(await this.groups.readSeqs(body.groupId))];
    const counts = await Promise.all(
      body.seqs.map(async (seq) => {
        const [message] = seq > 0 ? await this.groups.timeline(body.groupId, seq - 1, 1) : [];
        const poster = message?.seq === seq ? message.from : undefined;
        return readSeqs.filter(([userId, readSeq]) => readSeq >= seq && userId !== poster).length;
      }),
    );
    return { groupId: body.groupId, counts };
  }

  /** Moves the member's read mark and tells their other devices through their own inbox. */
  async markRead(session: SessionInfo, groupId: string, body: BodyOf<'markRead'>): Promise<BodyOf<'ok'>> {
    const { group } = await this.membership.memberOf(session.userId, groupId);
    if (body.seq > group.lastSeq) throw new ProtocolError(ErrorCode.notFound, `seq ${body.seq} is beyond the last entry (${group.lastSeq})`);
    if (!(await this.groups.markRead(groupId, session.userId, body.seq))) return {};
    const entry = { type: EntryType.readMark, conversationId: body.conversationId, seq: body.seq, actor: session.userId };
    const { version, epoch } = await this.stores.inbox.append(session.userId, entry);
    await this.stores.durable();
    this.fanout(session.userId, { ...entry, version, epoch }, session.deviceId);
    return {};
  }

  async deleteForMe(session: SessionInfo, groupId: string, body: BodyOf<'deleteForMe'>): Promise<BodyOf<'ok'>> {
    await this.membership.memberOf(session.userId, groupId);
    if (!(await this.stores.history.get(body.conversationId, body.seq))) throw new ProtocolError(ErrorCode.notFound, `no message ${body.seq} in this group`);
    await this.stores.hidden.hide(session.userId, body.conversationId, body.seq);
    await this.stores.durable();
    return {};
  }

  /** The user's groups as conversation rows, with unread = last seq − read seq. */
  async conversations(userId: string): Promise<ConversationRecord[]> {
    const rows: ConversationRecord[] = [];
    for (const groupId of await this.groups.groupsOf(userId)) {
      const member = await this.groups.member(groupId, userId);
      const group = member && (await this.groups.get(groupId));
      if (!member || !group) continue;
      const [last] = group.lastSeq > 0 ? await this.groups.timeline(groupId, group.lastSeq - 1, 1) : [];
      rows.push({
        conversationId: groupConversationId(groupId),
        peer: groupId,
        unread: Math.max(0, group.lastSeq - Math.max(member.readSeq, visibleFrom(group, member) - 1)),
        readSeq: member.readSeq,
        updatedAt: last?.sentAt ?? group.createdAt,
        ...(last ? { lastMessage: last } : {}),
      });
    }
    return rows;
  }
}
