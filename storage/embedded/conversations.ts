/**
 * Conversation lists on LMDB behind a write-back cache. The embedded store is owned by one
 * process, so the cached list is authoritative and every update is a synchronous read-modify-write:
 * concurrent updates never lose one another, and the per-user total moves in the same step as the
 * conversation's count. A changed row is put once per turn of the event loop however many messages
 * changed it (`flush`); the message commit and `durable()` flush before the write they wait for.
 */
import type { Database } from 'lmdb';
import { Message, type MessageRecord } from '../../protocol/bodies.ts';
import { wireSize } from '../../protocol/wire-size.ts';
import type { ConversationList, ConversationState, ConversationStore } from '../ports.ts';
import type { WriteTracker } from './counters.ts';

type Key = string | number | (string | number)[];

interface UserLists {
  readonly byConversation: Map<string, ConversationState>;
  total: number;
  /** Estimated memory of the rows, charged to the cache's byte budget. */
  bytes: number;
  /** Puts not yet committed: a list is not evicted before they are, or reloading would lose them. */
  pending: number;
}

/** Users whose lists stay cached; the least recently used beyond this are dropped (they reload from disk). */
const CACHED_USERS = 100_000;

/**
 * Memory the cached lists may take. Beyond it the least recently used users' lists are dropped
 * (policy: evict, they reload from disk on next use); the user being served is never dropped.
 */
export const DEFAULT_CONVERSATION_CACHE_BYTES = 64 * 1024 * 1024;

/** Users looked at, oldest first, for one that can be evicted (no uncommitted puts) per eviction. */
const EVICTION_SCAN = 64;

/** Object, Map entry and number fields of one cached row, besides its strings. */
const ROW_OVERHEAD_BYTES = 160;

/**
 * What a cached row costs. Rows of the server's own commits refer to their last message by seq
 * (recordReference), so a 64 Ki-character message costs nothing here; a row that does carry its
 * message (recordMessage, a recall's tombstone) is charged for it.
 */
function rowBytes(state: ConversationState): number {
  return ROW_OVERHEAD_BYTES + 2 * (state.conversationId.length + state.peer.length) + (state.lastMessage ? wireSize(Message.wire, state.lastMessage) * 2 : 0);
}

/** Recall claims live beside the lists under a key no user id can take (user ids are [A-Za-z0-9_.-]). */
const RECALLS = '\u0001recall';
const recallKey = (conversationId: string, seq: number) => `${conversationId}\u0000${seq}`;

export class EmbeddedConversations implements ConversationStore {
  private readonly cache = new Map<string, UserLists>();
  /** Claims and releases written but not yet committed; bounded by the recalls in flight. */
  private readonly recallsQueued = new Map<string, { readonly state: 'claimed' | 'released' }>();
  private cachedBytes = 0;
  /** Rows changed since the last flush, by user and conversation: the newest state of each. */
  private readonly dirty = new Map<string, { readonly userId: string; readonly lists: UserLists; state: ConversationState }>();
  private flushScheduled = false;
  /** Row puts issued, for tests that count storage operations. */
  rowPuts = 0;

  constructor(
    private readonly db: Database<ConversationState | number, Key>,
    private readonly track: WriteTracker,
    /** History rows and their sizes, for the last message of rows that refer to it by seq. */
    private readonly history: (conversationId: string, seq: number) => Promise<{ message: MessageRecord; bytes: number } | undefined>,
    private readonly maxCachedBytes = DEFAULT_CONVERSATION_CACHE_BYTES,
  ) {}

  /** The cache's estimated size and how many users it holds. */
  get cacheStats(): { bytes: number; users: number } {
    return { bytes: this.cachedBytes, users: this.cache.size };
  }

  /**
   * Records a message whose history row is written in the same commit: the row keeps its seq
   * only, and the last message is read from history when listed, so neither disk nor cache holds
   * a second copy of the content.
   */
  recordReference(userId: string, peer: string, message: MessageRecord, incoming: boolean): void {
    this.record(userId, peer, message, incoming, false);
  }

  async recordMessage(userId: string, peer: string, message: MessageRecord, incoming: boolean): Promise<void> {
    this.record(userId, peer, message, incoming, true);
  }

  private record(userId: string, peer: string, message: MessageRecord, incoming: boolean, keepMessage: boolean): void {
    const lists = this.load(userId);
    const previous = lists.byConversation.get(message.conversationId);
    const newer = !previous || message.seq > previous.lastSeq;
    const next: ConversationState = {
      conversationId: message.conversationId,
      peer,
      unread: (previous?.unread ?? 0) + (incoming ? 1 : 0),
      readSeq: previous?.readSeq ?? 0,
      lastSeq: newer ? message.seq : (previous?.lastSeq ?? message.seq),
      updatedAt: newer ? message.sentAt : (previous?.updatedAt ?? message.sentAt),
      ...(previous?.rev ? { rev: previous.rev } : {}),
      ...(newer ? (keepMessage ? { lastMessage: message } : {}) : previous?.lastMessage ? { lastMessage: previous.lastMessage } : {}),
    };
    this.save(userId, lists, next, incoming ? 1 : 0);
  }

  async markRead(userId: string, conversationId: string, seq: number, cleared: number, expectedRev?: number): Promise<boolean> {
    const lists = this.load(userId);
    const previous = lists.byConversation.get(conversationId);
    if (!previous || seq <= previous.readSeq) return false;
    if (expectedRev !== undefined && (previous.rev ?? 0) !== expectedRev) return false;
    const take = Math.min(cleared, previous.unread);
    this.save(userId, lists, { ...previous, readSeq: seq, unread: previous.unread - take, rev: (previous.rev ?? 0) + 1 }, -take);
    return true;
  }

  async updateMessage(userId: string, message: MessageRecord, unreadDelta: number): Promise<void> {
    const lists = this.load(userId);
    const previous = lists.byConversation.get(message.conversationId);
    if (!previous) return;
    const take = message.seq > previous.readSeq ? Math.min(unreadDelta, previous.unread) : 0;
    const isLast = previous.lastMessage?.seq === message.seq;
    const rev = (previous.rev ?? 0) + (take > 0 ? 1 : 0);
    this.save(userId, lists, { ...previous, unread: previous.unread - take, ...(isLast ? { lastMessage: message } : {}), ...(rev ? { rev } : {}) }, -take);
  }

  async releaseRecall(conversationId: string, seq: number): Promise<void> {
    this.writeClaim(conversationId, seq, 'released');
  }

  async claimRecall(conversationId: string, seq: number): Promise<boolean> {
    // The store is owned by one process: the check and the claim happen in one synchronous step
    // against what is queued and, failing that, what is committed.
    const queued = this.recallsQueued.get(recallKey(conversationId, seq));
    const claimed = queued === undefined ? this.db.get([RECALLS, conversationId, seq]) !== undefined : queued.state === 'claimed';
    if (claimed) return false;
    this.writeClaim(conversationId, seq, 'claimed');
    return true;
  }

  private writeClaim(conversationId: string, seq: number, state: 'claimed' | 'released'): void {
    const pending = recallKey(conversationId, seq);
    const queued = { state };
    this.recallsQueued.set(pending, queued);
    const key: Key = [RECALLS, conversationId, seq];
    const write = state === 'claimed' ? this.db.put(key, 1) : this.db.remove(key);
    this.track(write);
    const settled = () => {
      // Writes commit in order: once the last one queued for this claim has, the file is the truth.
      if (this.recallsQueued.get(pending) === queued) this.recallsQueued.delete(pending);
    };
    write.then(settled, settled);
  }

  async get(userId: string, conversationId: string): Promise<ConversationState | undefined> {
    const state = this.load(userId).byConversation.get(conversationId);
    return state && (await this.withLastMessage(state)).state;
  }

  async list(userId: string, limit: number, maxBytes = Infinity): Promise<ConversationList> {
    const lists = this.load(userId);
    const rows = [...lists.byConversation.values()].sort((a, b) => b.updatedAt - a.updatedAt || b.lastSeq - a.lastSeq).slice(0, limit);
    // In order, so that the rows past the byte budget are not read from history at all.
    const items: ConversationState[] = [];
    let bytes = 0;
    for (const row of rows) {
      if (bytes >= maxBytes) {
        const { lastMessage: _dropped, ...bare } = row;
        items.push(bare);
        continue;
      }
      const joined = await this.withLastMessage(row);
      bytes += joined.bytes;
      items.push(joined.state);
    }
    return { items, totalUnread: lists.total };
  }

  private async withLastMessage(state: ConversationState): Promise<{ state: ConversationState; bytes: number }> {
    if (state.lastMessage) return { state, bytes: rowBytes(state) };
    const last = await this.history(state.conversationId, state.lastSeq);
    return last ? { state: { ...state, lastMessage: last.message }, bytes: last.bytes } : { state, bytes: 0 };
  }

  private save(userId: string, lists: UserLists, state: ConversationState, totalDelta: number): void {
    const previous = lists.byConversation.get(state.conversationId);
    const delta = rowBytes(state) - (previous ? rowBytes(previous) : 0);
    lists.byConversation.set(state.conversationId, state);
    lists.total += totalDelta;
    lists.bytes += delta;
    this.cachedBytes += delta;
    const rowKey = `${userId}\u0000${state.conversationId}`;
    const queued = this.dirty.get(rowKey);
    if (queued) queued.state = state;
    else {
      // Counted from now: a list with a row not yet on disk is not evicted, or reloading would lose it.
      lists.pending++;
      this.dirty.set(rowKey, { userId, lists, state });
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
    this.evict(lists);
  }

  /** Queues one put per changed row, in LMDB's issue order before any write queued after this call. */
  readonly flush = (): void => {
    this.flushScheduled = false;
    for (const { userId, lists, state } of this.dirty.values()) {
      const put = this.db.put([userId, 'c', state.conversationId], state);
      this.rowPuts++;
      this.track(put);
      const settled = () => {
        // Lists kept over the budget only for their uncommitted puts are dropped once committed.
        if (--lists.pending === 0 && this.cachedBytes > this.maxCachedBytes) this.evict(undefined);
      };
      put.then(settled, settled);
    }
    this.dirty.clear();
  };

  private load(userId: string): UserLists {
    let lists = this.cache.get(userId);
    if (lists) {
      // Re-inserting keeps the Map in least-recently-used order for eviction.
      this.cache.delete(userId);
      this.cache.set(userId, lists);
      return lists;
    }
    const byConversation = new Map<string, ConversationState>();
    for (const { value } of this.db.getRange({ start: [userId, 'c'], end: [userId, 'c', '\uffff'] })) {
      const state = value as ConversationState;
      byConversation.set(state.conversationId, state);
    }
    // The total is the sum of the rows, so it is derived on load rather than written with each change.
    let total = 0;
    let bytes = 0;
    for (const state of byConversation.values()) {
      total += state.unread;
      bytes += rowBytes(state);
    }
    lists = { byConversation, total, bytes, pending: 0 };
    this.cache.set(userId, lists);
    this.cachedBytes += bytes;
    this.evict(lists);
    return lists;
  }

  /** Drops least recently used lists while the cache is over its budget, never `current` nor one with uncommitted puts. */
  private evict(current: UserLists | undefined): void {
    let scanned = 0;
    for (const [userId, lists] of this.cache) {
      if (this.cachedBytes <= this.maxCachedBytes && this.cache.size <= CACHED_USERS) return;
      if (++scanned > EVICTION_SCAN) return;
      if (lists === current || lists.pending > 0) continue;
      this.cache.delete(userId);
      this.cachedBytes -= lists.bytes;
    }
  }
}
