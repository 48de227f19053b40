/**
 * Inbox entries as a real user's inbox holds them: messages from and (as carbons) to a few dozen
 * contacts, with per-conversation seqs that go up, server message ids with their random part,
 * client ids in the SDK's shape, and now and then a read mark. The repetition inside one inbox
 * (the same user and conversation ids again and again) is what LZ4 and gzip find, so the page
 * sizes measured on these are the ones a real inbox would show.
 */
import { EntryType } from '../../protocol/bodies.ts';
import { directConversationId, newMessageId } from '../../server/logic/ids.ts';
import type { NewEntry } from '../../storage/ports.ts';
import type { Prng } from '../support/prng.ts';

/** 2025-11-30T00:00:00Z in ms: above 2^32, so timestamps travel as uint64 as real ones do. */
const T0 = 1_764_460_800_000;

/** Chat words, mostly ASCII with a few multi-byte ones. */
const WORDS = [
  'ok', 'see', 'you', 'at', 'the', 'gate', 'tonight', 'after', 'lunch', 'thanks', 'great', 'crêpe',
  'standup', 'moved', 'to', '4pm', 'could', 'share', 'the', 'doc', 'haha', 'omw', 'my', 'train', '🙂', 'stuck',
  'in', 'traffic', 'sorry', 'résumé', 'quick', 'question', 'where', 'are', 'we', 'sure', 'nope', 'later', 'ring',
];

/** One in this many entries is a read mark from the peer rather than a message. */
const READ_MARK_EVERY = 20;

function chatText(prng: Prng, length: number): string {
  let text = WORDS[prng.below(WORDS.length)] as string;
  while (text.length < length) text += ` ${WORDS[prng.below(WORDS.length)] as string}`;
  return text;
}

/** Writes `count` entries into the inbox of `userId` through `append`, in version order. */
export async function fillInbox(
  prng: Prng,
  userId: string,
  peers: readonly string[],
  count: number,
  append: (userId: string, entry: NewEntry) => Promise<number>,
): Promise<void> {
  const seqs = new Map<string, number>();
  /** Per sender: the SDK's random per-install prefix and its counter. */
  const senders = new Map<string, { prefix: string; counter: number }>();
  for (let i = 0; i < count; i++) {
    const peer = peers[prng.below(peers.length)] as string;
    const conversationId = directConversationId(userId, peer);
    const lastSeq = seqs.get(conversationId) ?? 0;
    if (i % READ_MARK_EVERY === READ_MARK_EVERY - 1 && lastSeq > 0) {
      await append(userId, { type: EntryType.readMark, conversationId, seq: lastSeq, actor: peer });
      continue;
    }
    const seq = lastSeq + 1;
    seqs.set(conversationId, seq);
    // A third of the conversation is the user's own messages, arriving as carbons.
    const [from, to] = prng.below(3) === 0 ? [userId, peer] : [peer, userId];
    let sender = senders.get(from);
    if (!sender) senders.set(from, (sender = { prefix: prng.next().toString(16), counter: 0 }));
    sender.counter++;
    const sentAt = T0 + i * 1_000 + prng.below(1_000);
    const message = {
      messageId: newMessageId(sentAt),
      conversationId,
      seq,
      from,
      to,
      kind: 1,
      content: chatText(prng, 8 + prng.below(113)),
      sentAt,
      clientMsgId: `${from}-phone-${sender.prefix}-${sender.counter}`,
    };
    await append(userId, { type: EntryType.message, conversationId, seq, message });
  }
}
