/**
 * Per-conversation ordering by sequence. Messages are released in seq order; one that arrives
 * ahead of a gap waits until the gap fills or `gapWaitMs` passes, then the owner is asked to
 * fetch the missing range (from history) before the waiting ones are released.
 */
import type { MessageRecord } from '../protocol/bodies.ts';

interface ConversationOrder {
  lastSeq: number;
  /** Waiting messages by seq; null marks a seq this device sent itself, passed over silently. */
  held: Map<number, MessageRecord | null>;
  timer: NodeJS.Timeout | undefined;
}

export interface ReorderHooks {
  release(message: MessageRecord): void;
  /** Asked to fetch messages lastSeq < seq < beforeSeq; resolve with what was found. */
  fetchGap(conversationId: string, afterSeq: number, beforeSeq: number): Promise<MessageRecord[]>;
}

export class Reorderer {
  private readonly conversations = new Map<string, ConversationOrder>();

  constructor(
    private readonly hooks: ReorderHooks,
    private readonly gapWaitMs: number,
  ) {}

  /** Seeds the last seen seq of a conversation (e.g. from the conversation list). */
  seed(conversationId: string, lastSeq: number): void {
    this.order(conversationId, lastSeq);
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
    for (const order of this.conversations.values()) if (order.timer) clearTimeout(order.timer);
    this.conversations.clear();
  }

  private order(conversationId: string, initialLastSeq: number): ConversationOrder {
    let order = this.conversations.get(conversationId);
    if (!order) {
      order = { lastSeq: initialLastSeq, held: new Map(), timer: undefined };
      this.conversations.set(conversationId, order);
    }
    return order;
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
      if (order.timer) clearTimeout(order.timer);
      order.timer = undefined;
    } else if (!order.timer) {
      order.timer = setTimeout(() => this.fillGap(conversationId, order), this.gapWaitMs);
    }
  }

  private fillGap(conversationId: string, order: ConversationOrder): void {
    order.timer = undefined;
    const firstHeld = Math.min(...order.held.keys());
    const afterSeq = order.lastSeq;
    this.hooks
      .fetchGap(conversationId, afterSeq, firstHeld)
      .catch(() => [] as MessageRecord[])
      .then((found) => {
        for (const message of found) if (message.seq > order.lastSeq && !order.held.has(message.seq)) order.held.set(message.seq, message);
        // Whatever is still missing (deleted for this user) is skipped rather than waited for forever.
        if (!order.held.has(order.lastSeq + 1) && order.lastSeq === afterSeq) order.lastSeq = Math.min(...order.held.keys()) - 1;
        this.drain(conversationId, order);
      });
  }
}
