/**
 * The 1:1 conversation lists of the production store: Redis holds the hot copy (rows, order,
 * unread counts, all changed in scripts) and Cassandra what must outlive it: which conversations
 * a user has and the read seq of each (storage/cassandra/conversations.ts). When Redis lost a
 * user's rows (its "loaded" key is gone) the first access rebuilds them all: the last message
 * and last seq from history, unread = the peer's messages after the read seq that are not
 * recalled (counted from history, at most REBUILD_COUNT_SCAN of them), and writes them in one
 * script; writes that found the rows missing wait for it and are then applied once.
 *
 * Cost (docs/design-notes.md): a message adds no Cassandra write once both users have the
 * conversation (the first one writes each user's row), a read mark adds one.
 */
import type { MessageRecord } from '../protocol/bodies.ts';
import type { CassandraConversations } from './cassandra/conversations.ts';
import type { ConversationList, ConversationState, ConversationStore, HistoryStore } from './ports.ts';
import { RedisStoreError } from './redis/errors.ts';
import { UNLOADED, type HotConversations, type LoadedConversation, type Unloaded } from './redis/conversations.ts';

/** History read per conversation to count what is unread; older unread messages count as unread. */
export const REBUILD_COUNT_SCAN = 1000;
/** Messages per history page read while counting. */
const COUNT_PAGE = 200;
/** Rebuilds a call waits for before it fails: a rows' loss repeated this often is an outage. */
const MAX_REBUILDS = 3;
/** Tries of a recount's check-and-set; each loses only to another change of the row. */
const RECOUNT_ATTEMPTS = 8;

export class ProductionConversations implements ConversationStore {
  /** One rebuild per user at a time in this process; other nodes may rebuild too, the first load wins. */
  private readonly rebuilding = new Map<string, Promise<ReadonlySet<string>>>();

  constructor(
    private readonly hot: HotConversations,
    private readonly durable: CassandraConversations,
    private readonly history: Pick<HistoryStore, 'page'>,
    private readonly now: () => number,
  ) {}

  async recordMessage(userId: string, peer: string, message: MessageRecord, incoming: boolean): Promise<void> {
    // A retry after a rebuild is counted once: the rebuild read the message from history (it is
    // stored before this is called) and the row's base excludes it.
    const reply = await this.loaded(userId, () => this.hot.recordMessage(userId, peer, message, incoming));
    if (reply === 'kept') return;
    // The row is written until it is known kept, so a write that failed is made by the next message.
    await this.durable.putRow(userId, message.conversationId, peer);
    await this.hot.markKept(userId, message.conversationId);
  }

  async markRead(userId: string, conversationId: string, seq: number, cleared: number, expectedRev?: number): Promise<boolean> {
    const moved = await this.loaded(userId, () => this.hot.markRead(userId, conversationId, seq, cleared, expectedRev));
    if (!moved) return false;
    try {
      await this.durable.putReadSeq(userId, conversationId, seq);
    } catch (error) {
      // Redis moved the mark and a retry would find it moved: the hot copy is dropped instead,
      // so the next access rebuilds from the read seq Cassandra has and the retry moves it again.
      await this.hot.unload(userId);
      throw error;
    }
    return true;
  }

  async updateMessage(userId: string, message: MessageRecord, unreadDelta: number): Promise<void> {
    let rebuilt = false;
    let delta = unreadDelta;
    await this.loaded(
      userId,
      () => this.hot.updateMessage(userId, message, delta),
      (kept) => {
        // A rebuild counted from history, which has the tombstone; a row it did not load has nothing to take off.
        rebuilt ||= kept.has(message.conversationId);
        delta = 0;
      },
    );
    // The rebuild this waited for may have read history before the tombstone was put (another
    // caller started it) and counted the message: the row is counted again, now that it is.
    if (rebuilt && unreadDelta !== 0 && !(await this.recount(userId, message.conversationId))) {
      // Policy: a row that kept changing takes the delta as if no rebuild had been (the script keeps the count in range).
      await this.loaded(userId, () => this.hot.updateMessage(userId, message, unreadDelta));
    }
  }

  claimRecall(conversationId: string, seq: number): Promise<boolean> {
    return this.hot.claimRecall(conversationId, seq);
  }

  releaseRecall(conversationId: string, seq: number): Promise<void> {
    return this.hot.releaseRecall(conversationId, seq);
  }

  get(userId: string, conversationId: string): Promise<ConversationState | undefined> {
    return this.loaded(userId, () => this.hot.get(userId, conversationId));
  }

  list(userId: string, limit: number): Promise<ConversationList> {
    return this.loaded(userId, () => this.hot.list(userId, limit));
  }

  /** Runs `op`, rebuilding the user's rows and running it again while it answers unloaded. */
  private async loaded<T>(userId: string, op: () => Promise<T | Unloaded>, afterRebuild?: (kept: ReadonlySet<string>) => void): Promise<T> {
    for (let rebuilds = 0; ; rebuilds++) {
      const reply = await op();
      if (reply !== UNLOADED) return reply;
      if (rebuilds >= MAX_REBUILDS) throw new RedisStoreError('unavailable', `the conversation rows of ${userId} were lost ${rebuilds} times while in use`);
      const kept = await this.rebuild(userId);
      afterRebuild?.(kept);
    }
  }

  /** The conversations the rebuild found kept on Cassandra. */
  private rebuild(userId: string): Promise<ReadonlySet<string>> {
    const running = this.rebuilding.get(userId);
    if (running) return running;
    const started = this.load(userId).finally(() => this.rebuilding.delete(userId));
    this.rebuilding.set(userId, started);
    return started;
  }

  private async load(userId: string): Promise<ReadonlySet<string>> {
    const kept = await this.durable.rows(userId);
    const rows = await Promise.all(kept.map((row) => this.rebuilt(userId, row.conversationId, row.peer, row.readSeq)));
    // A rev no earlier count was made from: a read mark counted before the loss counts again.
    await this.hot.load(userId, rows, this.now());
    return new Set(kept.map((row) => row.conversationId));
  }

  /** Sets a row's count from history, as a check-and-set against the row's rev and last seq; false when it kept changing. */
  private async recount(userId: string, conversationId: string): Promise<boolean> {
    for (let attempt = 0; attempt < RECOUNT_ATTEMPTS; attempt++) {
      const state = await this.get(userId, conversationId);
      if (!state) return true;
      const { unread, lastSeq } = await this.count(userId, conversationId, state.peer, state.readSeq);
      if (lastSeq !== state.lastSeq) continue;
      if (await this.hot.setUnread(userId, conversationId, unread, state.rev ?? 0, state.lastSeq)) return true;
    }
    return false;
  }

  private async rebuilt(userId: string, conversationId: string, peer: string, readSeq: number): Promise<LoadedConversation> {
    const { unread, last } = await this.count(userId, conversationId, peer, readSeq);
    const lastSeq = last?.seq ?? 0;
    return { conversationId, peer, unread, readSeq, lastSeq, updatedAt: last?.sentAt ?? 0, ...(last ? { lastMessage: last } : {}) };
  }

  /** The peer's messages after `readSeq` that are not recalled, and the last message, from history. */
  private async count(userId: string, conversationId: string, peer: string, readSeq: number): Promise<{ unread: number; lastSeq: number; last: MessageRecord | undefined }> {
    let unread = 0;
    let last: MessageRecord | undefined;
    let before: number | undefined;
    let scanned = 0;
    for (;;) {
      const page = await this.history.page(conversationId, before, COUNT_PAGE);
      last ??= page.messages[0];
      for (const m of page.messages) if (m.seq > readSeq && m.from === peer && m.to === userId && !m.recalled) unread++;
      scanned += page.messages.length;
      const oldest = page.messages.at(-1);
      if (!oldest || !page.hasMore || oldest.seq <= readSeq + 1) break;
      if (scanned >= REBUILD_COUNT_SCAN) {
        // Past the scan, every seq still after the read mark counts (an upper bound).
        unread += oldest.seq - 1 - readSeq;
        break;
      }
      before = oldest.seq;
    }
    return { unread, lastSeq: last?.seq ?? 0, last };
  }
}
