/**
 * Recovery after the inbox lost state (a new epoch, SPEC §11.6) or after 3005: the versions the
 * device holds no longer say what it lacks, but every stored message is still in history. So the
 * conversations (the server's list and the ones this device knows) are read back from history to
 * the seq the device last applied in each, and handed on in ascending seq order; the caller then
 * syncs the inbox again. Bounded per conversation, so a device never pages a long history back to
 * its start.
 */
import type { BodyOf, MessageRecord } from '../protocol/bodies.ts';

/** History pages read back per conversation at most: 50 pages of 100 messages. */
export const MAX_RECOVERY_PAGES = 50;
export const RECOVERY_PAGE = 100;
/** Conversations asked for in the list (the protocol's maximum). */
export const RECOVERY_LIST_LIMIT = 1000;

export interface RecoveryRequests {
  conversations(limit: number): Promise<BodyOf<'conversationList'>>;
  history(conversationId: string, beforeSeq: number | undefined, limit: number): Promise<BodyOf<'historyPage'>>;
}

export interface RecoveredConversation {
  readonly conversationId: string;
  /** Messages after the seq the device knew, ascending by seq. */
  readonly messages: MessageRecord[];
  /** True when the bound stopped the read before the known seq (older messages were left out). */
  readonly truncated: boolean;
}

/**
 * Reads back each conversation of the list and of `known` (seq last applied per conversation)
 * and calls `deliver` once per conversation, in list order, with what came after the known seq.
 */
export async function recoverFromHistory(
  requests: RecoveryRequests,
  known: ReadonlyMap<string, number>,
  deliver: (conversation: RecoveredConversation) => void,
  include: (conversationId: string) => boolean = () => true,
): Promise<{ conversations: number; messages: number }> {
  const list = await requests.conversations(RECOVERY_LIST_LIMIT);
  const ids = [...new Set([...list.items.map((item) => item.conversationId), ...known.keys()])].filter(include);
  let messages = 0;
  for (const conversationId of ids) {
    const recovered = await readBack(requests, conversationId, known.get(conversationId) ?? 0);
    messages += recovered.messages.length;
    deliver(recovered);
  }
  return { conversations: ids.length, messages };
}

/** The messages of a conversation with afterSeq < seq < beforeSeq (all after afterSeq without beforeSeq), ascending, within the page bound. */
export async function readBack(
  requests: Pick<RecoveryRequests, 'history'>,
  conversationId: string,
  afterSeq: number,
  before?: number,
): Promise<RecoveredConversation> {
  const newestFirst: MessageRecord[] = [];
  let beforeSeq = before;
  for (let pages = 0; pages < MAX_RECOVERY_PAGES; pages++) {
    const page = await requests.history(conversationId, beforeSeq, RECOVERY_PAGE);
    for (const message of page.messages) if (message.seq > afterSeq) newestFirst.push(message);
    const oldest = page.messages.at(-1);
    if (!oldest || !page.hasMore || oldest.seq <= afterSeq + 1) return { conversationId, messages: newestFirst.reverse(), truncated: false };
    beforeSeq = oldest.seq;
  }
  return { conversationId, messages: newestFirst.reverse(), truncated: true };
}
