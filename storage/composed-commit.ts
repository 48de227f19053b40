/**
 * A message commit composed of the per-concern ports, for stores without a native one (the
 * production store: Redis and Cassandra). A half-finished commit leaves a dedup claim without a
 * version, which the resend completes with the same ids, so a crash in between loses nothing
 * that was acknowledged and stores nothing twice.
 */
import { EntryType, type MessageRecord } from '../protocol/bodies.ts';
import { claimSend } from './dedup-claim.ts';
import { KeyedSerial } from './keyed-serial.ts';
import type { CommittedMessage, MessageInput, MessageStore, Stores } from './ports.ts';

type Parts = Pick<Stores, 'sequences' | 'history' | 'inbox' | 'dedup' | 'conversations' | 'durable'>;

export class ComposedMessageStore implements MessageStore {
  /** Commits of one conversation issue their writes one after another, so seqs follow call order. */
  private readonly serial = new KeyedSerial();

  constructor(private readonly parts: Parts) {}

  async commit(input: MessageInput): Promise<CommittedMessage> {
    const committed = await this.serial.run(input.conversationId, () => this.write(input));
    await this.parts.durable();
    return committed;
  }

  private async write(input: MessageInput): Promise<CommittedMessage> {
    const { dedup, sequences, history, inbox, conversations } = this.parts;
    const { from, to, conversationId, clientMsgId } = input;
    // The same client id may be used towards two receivers; each conversation dedups its own.
    const dedupKey = `${conversationId}\u0000${clientMsgId}`;
    const claimed = await claimSend(dedup, from, dedupKey, input.sentAt, async () => ({ messageId: input.messageId, conversationId, seq: await sequences.next(conversationId), sentAt: input.sentAt }));
    if (claimed.kind === 'done') {
      const message = await history.get(conversationId, claimed.record.seq);
      if (message) {
        const { version, epoch } = claimed.record;
        return { fresh: false, message, receiverVersion: 0, senderVersion: version ?? 0, ...(epoch !== undefined ? { senderEpoch: epoch } : {}) };
      }
    }
    const { messageId, seq, sentAt } = claimed.record;
    const message: MessageRecord = { messageId, conversationId, seq, from, to, kind: input.kind, content: input.content, sentAt, clientMsgId };
    await history.put(message);
    const entry = { type: EntryType.message, conversationId, seq, message };
    const [receiver, sender] = await Promise.all([inbox.append(to, entry), inbox.append(from, entry)]);
    await Promise.all([conversations.recordMessage(to, from, message, true), conversations.recordMessage(from, to, message, false)]);
    await dedup.put(from, dedupKey, { messageId, conversationId, seq, sentAt, version: sender.version, epoch: sender.epoch });
    return { fresh: true, message, receiverVersion: receiver.version, senderVersion: sender.version, receiverEpoch: receiver.epoch, senderEpoch: sender.epoch };
  }
}
