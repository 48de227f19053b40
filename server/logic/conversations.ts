/**
 * Conversation lists, read marks, recall and delete-for-me. Read marks and recalls are inbox
 * entries too, so a user's other devices and the peer learn of them by push or by sync.
 */
import { EntryType, MAX_PAGE_ENTRIES, type BodyOf, type ConversationRecord, type MessageRecord } from '../../protocol/bodies.ts';
import { ErrorCode, ProtocolError } from '../../protocol/errors.ts';
import type { ConversationState, NewEntry, Stores } from '../../storage/ports.ts';
import type { SessionInfo } from '../seam.ts';
import type { Clock } from './clock.ts';
import { participants } from './ids.ts';
import type { Fanout } from './messaging.ts';
import { fitConversations, type PageBudget } from './page-budget.ts';

export const DEFAULT_CONVERSATIONS = 100;

/**
 * History messages looked at, newest first, for the latest one a user has not deleted for
 * themselves; past them the conversation is listed without a last message.
 */
const LAST_VISIBLE_SCAN = 100;

/** Tries of a read mark's check-and-set before it is answered 5001 (each loses only to another change of the row). */
const MARK_READ_ATTEMPTS = 8;

export interface ConversationOptions {
  /** How long after sending the sender may recall a message. */
  readonly recallWindowMs: number;
  readonly budget: PageBudget;
}

type Deps = Pick<Stores, 'conversations' | 'history' | 'inbox' | 'hidden' | 'durable'>;

export class Conversations {
  constructor(
    private readonly stores: Deps,
    private readonly clock: Clock,
    private readonly fanout: Fanout,
    private readonly options: ConversationOptions,
  ) {}

  /**
   * The most recent conversations, each with its latest message the user can see. Last messages
   * are included while the list stays within the page budget; the items after that are listed
   * without one (SPEC §12.2), so the list is complete whatever the messages weigh.
   */
  async list(session: SessionInfo, body: BodyOf<'conversations'>): Promise<BodyOf<'conversationList'>> {
    const limit = Math.max(1, Math.min(body.limit || DEFAULT_CONVERSATIONS, MAX_PAGE_ENTRIES));
    const { items, totalUnread } = await this.stores.conversations.list(session.userId, limit, this.options.budget.budgetBytes);
    const records = await Promise.all(items.map((state) => this.listed(session.userId, state)));
    const fitted = fitConversations(records, this.options.budget);
    return { items: fitted, totalUnread };
  }

  private async listed(userId: string, state: ConversationState): Promise<ConversationRecord> {
    const { conversationId, peer, unread, readSeq, updatedAt } = state;
    const lastMessage = state.lastMessage && (await this.latestVisible(userId, state.lastMessage));
    return { conversationId, peer, unread, readSeq, updatedAt, ...(lastMessage ? { lastMessage } : {}) };
  }

  /** `last`, or when the user deleted it for themselves the newest message before it they did not. */
  private async latestVisible(userId: string, last: MessageRecord): Promise<MessageRecord | undefined> {
    if (!(await this.stores.hidden.isHidden(userId, last.conversationId, last.seq))) return last;
    let before = last.seq;
    for (let scanned = 0; scanned < LAST_VISIBLE_SCAN && before > 1; ) {
      const page = await this.stores.history.page(last.conversationId, before, 20);
      const shown = await this.visible(userId, page.messages);
      if (shown[0]) return shown[0];
      const oldest = page.messages.at(-1);
      if (!oldest || !page.hasMore) return undefined;
      scanned += page.messages.length;
      before = oldest.seq;
    }
    return undefined;
  }

  /** Marks read up to `seq`: clears that part of the unread count, syncs the user's devices and sends the peer a receipt. */
  async markRead(session: SessionInfo, body: BodyOf<'markRead'>): Promise<BodyOf<'ok'>> {
    const peer = this.peerOf(session, body.conversationId);
    // Read-modify-write as a check-and-set on the row's rev: the count is applied only to the
    // state it was made from; another read mark or a recall in between makes it count again.
    for (let attempt = 0; ; attempt++) {
      const state = await this.stores.conversations.get(session.userId, body.conversationId);
      if (!state) throw new ProtocolError(ErrorCode.notFound, 'no such conversation in your list');
      if (body.seq > state.lastSeq) throw new ProtocolError(ErrorCode.notFound, `seq ${body.seq} is beyond the last message (${state.lastSeq})`);
      if (body.seq <= state.readSeq) return {};
      const cleared = await this.countFrom(peer, body.conversationId, state.readSeq, body.seq);
      if (await this.stores.conversations.markRead(session.userId, body.conversationId, body.seq, cleared, state.rev ?? 0)) break;
      // Policy: give up (retryable 5001) rather than loop while the row keeps changing.
      if (attempt + 1 >= MARK_READ_ATTEMPTS) throw new ProtocolError(ErrorCode.internal, 'the read state kept changing; retry');
    }
    const entry: NewEntry = { type: EntryType.readMark, conversationId: body.conversationId, seq: body.seq, actor: session.userId };
    await this.signal([session.userId, peer], entry, session);
    return {};
  }

  /** Replaces the sender's own message by a tombstone for everyone, within the recall window. */
  async recall(session: SessionInfo, body: BodyOf<'recall'>): Promise<BodyOf<'ok'>> {
    const peer = this.peerOf(session, body.conversationId);
    const message = await this.stores.history.get(body.conversationId, body.seq);
    if (!message) throw new ProtocolError(ErrorCode.notFound, `no message ${body.seq} in this conversation`);
    if (message.from !== session.userId) throw new ProtocolError(ErrorCode.forbidden, 'only the sender may recall a message');
    if (message.recalled) return {};
    if (this.clock.now() - message.sentAt > this.options.recallWindowMs) throw new ProtocolError(ErrorCode.recallExpired);
    // Check-and-set: of two recalls of one message (pipelined, or on two nodes) one writes the
    // tombstone and the entries; the other is answered ok like a recall of a recalled message.
    if (!(await this.stores.conversations.claimRecall(body.conversationId, body.seq))) return {};
    const tombstone: MessageRecord = { ...message, content: '', recalled: true };
    // The tombstone is in history before the rows change, so a read mark counting after the
    // peer's row changed skips it (the store takes it off the count only while it is unread).
    // Once it is, a retry finds the message recalled; before, the claim is given back.
    try {
      await this.stores.history.put(tombstone);
    } catch (error) {
      await this.stores.conversations.releaseRecall(body.conversationId, body.seq);
      throw error;
    }
    await this.stores.conversations.updateMessage(peer, tombstone, 1);
    await this.stores.conversations.updateMessage(session.userId, tombstone, 0);
    await this.signal([session.userId, peer], { type: EntryType.recall, conversationId: body.conversationId, seq: body.seq, message: tombstone, actor: session.userId }, session);
    return {};
  }

  async deleteForMe(session: SessionInfo, body: BodyOf<'deleteForMe'>): Promise<BodyOf<'ok'>> {
    this.peerOf(session, body.conversationId);
    if (!(await this.stores.history.get(body.conversationId, body.seq))) throw new ProtocolError(ErrorCode.notFound, `no message ${body.seq} in this conversation`);
    await this.stores.hidden.hide(session.userId, body.conversationId, body.seq);
    await this.stores.durable();
    return {};
  }

  /** Drops from a history page what the viewer deleted for themselves. */
  async visible(userId: string, messages: MessageRecord[]): Promise<MessageRecord[]> {
    const hidden = await Promise.all(messages.map((m) => this.stores.hidden.isHidden(userId, m.conversationId, m.seq)));
    return messages.filter((_, i) => !hidden[i]);
  }

  private peerOf(session: SessionInfo, conversationId: string): string {
    const members = participants(conversationId);
    if (!members?.includes(session.userId)) throw new ProtocolError(ErrorCode.forbidden, 'not a participant of this conversation');
    return members[0] === session.userId ? members[1] : members[0];
  }

  /** Messages from `sender` with readSeq < seq ≤ upTo. */
  private async countFrom(sender: string, conversationId: string, readSeq: number, upTo: number): Promise<number> {
    let count = 0;
    let before = upTo + 1;
    while (before - 1 > readSeq) {
      const page = await this.stores.history.page(conversationId, before, Math.min(MAX_PAGE_ENTRIES, before - 1 - readSeq));
      // A recalled message was taken off the count when it was recalled.
      for (const m of page.messages) if (m.seq > readSeq && m.from === sender && !m.recalled) count++;
      const oldest = page.messages.at(-1);
      if (!oldest || !page.hasMore) break;
      before = oldest.seq;
    }
    return count;
  }

  /** Enters a signal in each user's inbox, waits until durable, then pushes it to their devices but the acting one. */
  private async signal(userIds: string[], entry: NewEntry, actor: SessionInfo): Promise<void> {
    const positions = await Promise.all(userIds.map((userId) => this.stores.inbox.append(userId, entry)));
    await this.stores.durable();
    positions.forEach(({ version, epoch }, i) => {
      const userId = userIds[i] as string;
      this.fanout(userId, { ...entry, version, epoch }, userId === actor.userId ? actor.deviceId : undefined);
    });
  }
}
