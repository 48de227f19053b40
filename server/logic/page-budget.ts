/**
 * Pages (sync, history, conversation lists) are filled to a byte budget as well as to a count, so
 * no reply is larger than the frame size the server advertised: a page of 200 entries of 64 Ki
 * characters would otherwise be 40 MB, and a client that refuses it (as it must) would reconnect
 * and ask for the same page forever.
 */
import { Conversation, type ConversationRecord } from '../../protocol/bodies.ts';
import { HEADER_SIZE } from '../../protocol/header.ts';
import { wireSize } from '../../protocol/wire-size.ts';
import type { WireShape } from '../../protocol/schema.ts';

/** Bytes a page body needs besides its items (array headers, flags, versions, ids). */
export const PAGE_ENVELOPE_BYTES = 1024;

export interface PageBudget {
  /** Items are added while the page stays within this many body bytes (before compression). */
  readonly budgetBytes: number;
  /** A first item larger than the budget still goes alone when it is at most this large. */
  readonly loneItemBytes: number;
}

/** The budget for a gateway that advertises `maxFrameSize`: `preferred`, or less when the frame is smaller. */
export function pageBudgetFor(maxFrameSize: number, preferred: number): PageBudget {
  const loneItemBytes = maxFrameSize - HEADER_SIZE - PAGE_ENVELOPE_BYTES;
  return { budgetBytes: Math.min(preferred, loneItemBytes), loneItemBytes };
}

/**
 * A page being filled item by item: `add` takes the next item's wire size, counts it when it
 * goes on the page, and answers whether another may follow. A first item above the budget goes
 * alone when it fits `loneItemBytes`.
 */
export class PageFill {
  private used = 0;
  /** Items taken so far. */
  count = 0;

  constructor(private readonly budget: PageBudget) {}

  add(bytes: number): boolean {
    this.used += bytes;
    if (this.used > this.budget.budgetBytes && !(this.count === 0 && this.used <= this.budget.loneItemBytes)) return false;
    this.count++;
    return this.used <= this.budget.budgetBytes;
  }
}

/**
 * How many of `items`, from the first, fit the budget. At least one when the first fits
 * `loneItemBytes`; 0 when it does not (the caller decides what an unsendable item means).
 */
export function fitting(items: readonly unknown[], shape: WireShape, budget: PageBudget): number {
  const fill = new PageFill(budget);
  for (const item of items) if (!fill.add(wireSize(shape, item))) break;
  return fill.count;
}

/**
 * A conversation list within the budget: items keep their last message while the list fits
 * (the first one while it fits a frame alone), the items after that point go without it (SPEC
 * §12.2). Without messages an item is small, so the list stays complete.
 */
export function fitConversations(items: readonly ConversationRecord[], budget: PageBudget): ConversationRecord[] {
  let used = 0;
  return items.map((item, i) => {
    const size = wireSize(Conversation.wire, item);
    if (used + size <= budget.budgetBytes || (i === 0 && size <= budget.loneItemBytes)) {
      used += size;
      return item;
    }
    const { lastMessage: _dropped, ...bare } = item;
    used += wireSize(Conversation.wire, bare);
    return bare;
  });
}
