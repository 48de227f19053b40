/**
 * Per-conversation ordering by sequence. Messages are released in seq order; one that arrives
 * ahead of a gap waits until the gap fills or `gapWaitMs` passes, then the owner is asked to
 * fetch the missing range (from history) before the waiting ones are released.
 */
import type { MessageRecord } from '../protocol/bodies.ts';
import type { ClientTime } from './time.ts';

interface ConversationOrder {
  lastSeq: number;
  /** Waiting messages by seq; null marks a seq this device sent itself, passed over silently. */
  held: Map<number, MessageRecord | null>;
  cancelTimer: (() => void) | undefined;
  /** Gap fetches that failed in a row. */
  failedFetches: number;
}

/** Failed gap fetches in a row before the gap is passed over (the messages are then shown when they come, late). */
export const MAX_GAP_FETCH_FAILURES = 5;

/** One seq of a catch-up: the message to release, or null for one not to show (already shown, or this device's own). */
export interface CatchUpItem {
  readonly seq: number;
  readonly message: MessageRecord | null;
}

export interface ReorderHooks {
  release(message: MessageRecord): void;
  /** Asked to fetch messages lastSeq < seq < beforeSeq; resolve with what was found. */
  fetchGap(conversationId: string, afterSeq: number, beforeSeq: number): Promise<MessageRecord[]>;
  /** A gap fetch failed; the waiting messages are released without it. */
  failed(error: unknown): void;
}

export class Reorderer {
  private readonly conversations = new Map<string, ConversationOrder>();

  constructor(
    private readonly hooks: ReorderHooks,
    private readonly gapWaitMs: number,
    private readonly time: ClientTime,
  ) {}

  /** Seeds the last seen seq of a conversation (e.g. from the conversation list). */
  seed(conversationId: string, lastSeq: number): void {
    this.order(conversationId, lastSeq);
  }

  /** The last seq released or passed over, per conversation. */
  lastSeqs(): Map<string, number> {
    return new Map([...this.conversations].map(([conversationId, order]) => [conversationId, order.lastSeq]));
  }

  /**
   * A run of a conversation's seqs fetched in full (from history, ascending): each is released
   * in turn, with any message already waiting at or below it, so the conversation moves on to
   * the last of them without waiting for gaps the run shows to be closed.
   */
  catchUp(conversationId: string, items: readonly CatchUpItem[]): void {
    const first = items[0];
    if (!first) return;
    const order = this.order(conversationId, first.seq - 1);
    for (const { seq, message } of items) {
      if (seq <= order.lastSeq) continue;
      for (const waiting of [...order.held.keys()].filter((s) => s < seq).sort((a, b) => a - b)) this.releaseHeld(order, waiting);
      const held = order.held.get(seq);
      order.held.delete(seq);
      order.lastSeq = seq;
      const next = message ?? held;
      if (next) this.hooks.release(next);
    }
    this.drain(conversationId, order);
  }

  add(message: MessageRecord): void {
    const order = this.order(message.conversationId, message.seq - 1);
    // Behind the baseline: a late arrival (the caller dedups by message id), released as is.
    if (message.seq <= order.lastSeq) return this.hooks.release(message);
    order.held.set(message.seq, message);
    this.drain(message.conversationId, order);
  }

  /** A seq this device sent itself: nothing to show, but later messages need not wait for it. */
  own(conversationId: string, seq: number): void {
    const order = this.order(conversationId, seq - 1);
    if (seq <= order.lastSeq) return;
    order.held.set(seq, null);
    this.drain(conversationId, order);
  }

  clear(): void {
    for (const order of this.conversations.values()) order.cancelTimer?.();
    this.conversations.clear();
  }

  private order(conversationId: string, initialLastSeq: number): ConversationOrder {
    let order = this.conversations.get(conversationId);
    if (!order) {
      order = { lastSeq: initialLastSeq, held: new Map(), cancelTimer: undefined, failedFetches: 0 };
      this.conversations.set(conversationId, order);
    }
    return order;
  }

  private releaseHeld(order: ConversationOrder, seq: number): void {
    const message = order.held.get(seq);
    order.held.delete(seq);
    order.lastSeq = seq;
    if (message) this.hooks.release(message);
  }

  private drain(conversationId: string, order: ConversationOrder): void {
    while (order.held.has(order.lastSeq + 1)) {
      const seq = order.lastSeq + 1;
      const next = order.held.get(seq);
      order.held.delete(seq);
      order.lastSeq = seq;
      if (next) this.hooks.release(next);
    }
    if (order.held.size === 0) {
      order.cancelTimer?.();
      order.cancelTimer = undefined;
    } else if (!order.cancelTimer) {
      order.cancelTimer = this.time.after(this.gapWaitMs, () => this.fillGap(conversationId, order));
    }
  }

  private fillGap(conversationId: string, order: ConversationOrder): void {
    order.cancelTimer = undefined;
    if (order.held.size === 0) return;
    const firstHeld = Math.min(...order.held.keys());
    const afterSeq = order.lastSeq;
    this.hooks.fetchGap(conversationId, afterSeq, firstHeld).then(
      (found) => {
        order.failedFetches = 0;
        for (const message of found) if (message.seq > order.lastSeq && !order.held.has(message.seq)) order.held.set(message.seq, message);
        // Whatever is still missing (deleted for this user) is skipped rather than waited for forever.
        if (order.held.size > 0 && !order.held.has(order.lastSeq + 1) && order.lastSeq === afterSeq) order.lastSeq = Math.min(...order.held.keys()) - 1;
        this.drain(conversationId, order);
      },
      (error: unknown) => {
        this.hooks.failed(error);
        // The missing messages exist; only the request failed (a dropped connection). Passing the
        // gap over would move the conversation past them for good (a later catch-up takes seqs up
        // to here as released), so the fetch is tried again, a bounded number of times.
        if (++order.failedFetches < MAX_GAP_FETCH_FAILURES) {
          if (!order.cancelTimer && order.held.size > 0) order.cancelTimer = this.time.after(this.gapWaitMs, () => this.fillGap(conversationId, order));
          return;
        }
        order.failedFetches = 0;
        if (order.held.size > 0 && !order.held.has(order.lastSeq + 1) && order.lastSeq === afterSeq) order.lastSeq = Math.min(...order.held.keys()) - 1;
        this.drain(conversationId, order);
      },
    );
  }
}
