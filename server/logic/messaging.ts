/**
 * 1:1 messaging: persist first, acknowledge second, push third. A message is stored once in the
 * conversation history (read diffusion) and entered in the receiver's inbox and, as a carbon, in
 * the sender's (write diffusion), so every device of both users can sync it.
 */
import { EntryType, type BodyOf, type MessageRecord } from '../../protocol/bodies.ts';
import { ErrorCode, ProtocolError } from '../../protocol/errors.ts';
import type { Stores } from '../../storage/ports.ts';
import type { SessionInfo } from '../seam.ts';
import type { Clock } from './clock.ts';
import { checkUserId, directConversationId, newMessageId } from './ids.ts';

/** Where the logic sends entries for delivery to a user's online devices. */
export type Fanout = (userId: string, entry: BodyOf<'push'>, exceptDeviceId?: string) => void;

/**
 * Deliberate faults for testing the tools that must catch them (the load generator's checker).
 * Never set in production.
 */
export interface MessagingFaults {
  /** Acknowledge every Nth message without storing it for the receiver (no history, no inbox entry). */
  readonly loseEvery?: number;
}

export class Messaging {
  private stored = 0;

  /**
   * Sends into one conversation are stored one after another, so that every inbox receives the
   * conversation's messages in seq order and clients rarely see a gap. Entries leave the map when idle.
   */
  private readonly conversationTails = new Map<string, Promise<unknown>>();

  constructor(
    private readonly stores: Pick<Stores, 'accounts' | 'sequences' | 'history' | 'inbox' | 'dedup' | 'conversations' | 'durable'>,
    private readonly clock: Clock,
    private readonly fanout: Fanout,
    private readonly faults: MessagingFaults = {},
  ) {}

  async send(session: SessionInfo, body: BodyOf<'send'>): Promise<BodyOf<'sendAck'>> {
    const to = checkUserId(body.to);
    if (to === session.userId) throw new ProtocolError(ErrorCode.forbidden, 'a 1:1 message needs another user as receiver');
    const conversationId = directConversationId(session.userId, to);
    const stored = await this.inOrder(conversationId, () => this.store(session, to, conversationId, body));
    // Persisted = acknowledged: nothing is answered or pushed before the writes are durable.
    await this.stores.durable();
    if (stored.fresh) {
      if (stored.receiverEntry.version > 0) this.fanout(to, stored.receiverEntry);
      this.fanout(session.userId, stored.senderEntry, session.deviceId);
    }
    return stored.ack;
  }

  /** Runs `task` after the previous task of the same conversation has issued its writes. */
  private inOrder<T>(conversationId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.conversationTails.get(conversationId) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.catch(() => undefined);
    this.conversationTails.set(conversationId, tail);
    void tail.then(() => {
      if (this.conversationTails.get(conversationId) === tail) this.conversationTails.delete(conversationId);
    });
    return result;
  }

  /** Issues the writes of one message (or finds them already done) and returns what to answer and push. */
  private async store(session: SessionInfo, to: string, conversationId: string, body: BodyOf<'send'>): Promise<Stored> {
    const from = session.userId;
    // A resend of a stored message gets the same answer; a half-stored one is completed with the same ids.
    const known = await this.stores.dedup.get(from, body.clientMsgId);
    if (known?.version !== undefined) {
      const ack = { messageId: known.messageId, conversationId: known.conversationId, seq: known.seq, serverTime: known.sentAt, version: known.version };
      return { fresh: false, ack };
    }
    if (!known && !(await this.stores.accounts.get(to))) throw new ProtocolError(ErrorCode.notFound, `user "${to}" does not exist`);

    const sentAt = known?.sentAt ?? this.clock.now();
    const seq = known?.seq ?? (await this.stores.sequences.next(conversationId));
    const messageId = known?.messageId ?? newMessageId(sentAt);
    if (!known) await this.stores.dedup.put(from, body.clientMsgId, { messageId, conversationId, seq, sentAt });

    const message: MessageRecord = { messageId, conversationId, seq, from, to, kind: body.kind, content: body.content, sentAt, clientMsgId: body.clientMsgId };
    const lost = this.faults.loseEvery !== undefined && ++this.stored % this.faults.loseEvery === 0;
    if (!lost) await this.stores.history.put(message);
    const entry = { type: EntryType.message, conversationId, seq, message };
    const [receiverVersion, senderVersion] = await Promise.all([lost ? Promise.resolve(-1) : this.stores.inbox.append(to, entry), this.stores.inbox.append(from, entry)]);
    await Promise.all([this.stores.conversations.recordMessage(to, from, message, true), this.stores.conversations.recordMessage(from, to, message, false)]);
    await this.stores.dedup.put(from, body.clientMsgId, { messageId, conversationId, seq, sentAt, version: senderVersion });
    return {
      fresh: true,
      ack: { messageId, conversationId, seq, serverTime: sentAt, version: senderVersion },
      receiverEntry: { ...entry, version: receiverVersion },
      senderEntry: { ...entry, version: senderVersion },
    };
  }
}

type Stored =
  | { readonly fresh: false; readonly ack: BodyOf<'sendAck'> }
  | { readonly fresh: true; readonly ack: BodyOf<'sendAck'>; readonly receiverEntry: BodyOf<'push'>; readonly senderEntry: BodyOf<'push'> };
