/**
 * Message commits on LMDB. The embedded store is owned by one process, so a commit is decided
 * synchronously (dedup, seq, versions, conversation rows) and its puts are queued together; LMDB
 * commits them in one transaction with whatever else was queued, and the promise of the last
 * put resolves once all of them are on disk. The last put of each message, its dedup record, is
 * queued when the turn of the event loop ends, after the conversation rows that the turn's
 * messages changed: a row changed by many messages of one turn is written once, and every
 * message's last put still follows all of its writes.
 *
 * Admission: at most `maxInFlight` messages wait for a commit at once. Beyond that, commits
 * queue in call order before taking a seq, so one transaction never grows past a bounded size
 * and the ACK of a message waits for one small commit, not for a backlog; the gateway's
 * per-connection request bound turns the wait into back-pressure on the socket.
 */
import { EntryType, type MessageRecord } from '../../protocol/bodies.ts';
import { Admission } from '../admission.ts';
import type { CommittedMessage, DedupRecord, MessageInput, MessageStore } from '../ports.ts';

type Key = string | number | (string | number)[];

export interface MessageWriters {
  readonly dedup: {
    get(key: Key): DedupRecord | undefined;
    put(key: Key, record: DedupRecord): Promise<unknown>;
  };
  nextSeq(conversationId: string): number;
  putHistory(message: MessageRecord): Promise<unknown>;
  appendInbox(userId: string, entry: { type: number; conversationId: string; seq: number; message: MessageRecord }): number;
  /** The epoch of every version appendInbox gives (one per store, SPEC §11.2). */
  readonly inboxEpoch: string;
  recordConversation(userId: string, peer: string, message: MessageRecord, incoming: boolean): void;
  /** Queues the puts of the conversation rows changed so far. */
  flushConversations(): void;
  /** Reads a stored message, for the answer to a resend. */
  message(conversationId: string, seq: number): MessageRecord | undefined;
}

export const DEFAULT_MAX_IN_FLIGHT = 512;

export class EmbeddedMessages implements MessageStore {
  /** Commits not yet on disk, by dedup key: a resend racing its first attempt joins it. */
  private readonly pending = new Map<string, Promise<CommittedMessage>>();
  private readonly admission: Admission;
  /** Dedup puts of this turn's messages, queued when the turn ends. */
  private closing: (() => void)[] = [];
  /** Commits issued, for tests that count storage operations per message. */
  commits = 0;

  constructor(
    private readonly writers: MessageWriters,
    maxInFlight = DEFAULT_MAX_IN_FLIGHT,
  ) {
    this.admission = new Admission(maxInFlight);
  }

  commit(input: MessageInput): Promise<CommittedMessage> {
    // The common case stays synchronous: a free slot is taken without waiting a turn.
    if (this.admission.free) {
      this.admission.take();
      return this.commitNow(input);
    }
    return this.admission.enter().then(() => this.commitNow(input));
  }

  private commitNow(input: MessageInput): Promise<CommittedMessage> {
    const { from, to, conversationId, clientMsgId } = input;
    const key = [from, conversationId, clientMsgId];
    const dedupKey = key.join('\u0000');
    const racing = this.pending.get(dedupKey);
    if (racing) return this.admitted(racing.then((first) => ({ ...first, fresh: false })));
    const known = this.writers.dedup.get(key);
    if (known?.version !== undefined) {
      const message = this.writers.message(conversationId, known.seq);
      if (message) return this.admitted(Promise.resolve({ fresh: false, message, receiverVersion: 0, senderVersion: known.version, senderEpoch: this.writers.inboxEpoch }));
    }
    this.commits++;
    const seq = this.writers.nextSeq(conversationId);
    const message: MessageRecord = { messageId: input.messageId, conversationId, seq, from, to, kind: input.kind, content: input.content, sentAt: input.sentAt, clientMsgId };
    void this.writers.putHistory(message);
    const entry = { type: EntryType.message, conversationId, seq, message };
    const receiverVersion = this.writers.appendInbox(to, entry);
    const senderVersion = this.writers.appendInbox(from, entry);
    this.writers.recordConversation(to, from, message, true);
    this.writers.recordConversation(from, to, message, false);
    const record: DedupRecord = { messageId: message.messageId, conversationId, seq, sentAt: message.sentAt, version: senderVersion };
    const epoch = this.writers.inboxEpoch;
    const committed = new Promise<CommittedMessage>((resolve, reject) => {
      // Queued last: LMDB commits in issue order, so this put's promise covers the whole message.
      const close = () => this.writers.dedup.put(key, record).then(() => resolve({ fresh: true, message, receiverVersion, senderVersion, receiverEpoch: epoch, senderEpoch: epoch }), reject);
      if (this.closing.push(close) === 1) setImmediate(this.closeTurn);
    });
    this.pending.set(dedupKey, committed);
    const forget = () => this.pending.delete(dedupKey);
    committed.then(forget, forget);
    return this.admitted(committed);
  }

  private readonly closeTurn = (): void => {
    const closing = this.closing;
    this.closing = [];
    this.writers.flushConversations();
    for (const close of closing) close();
  };

  /** Holds the commit's slot until it settles. */
  private admitted(result: Promise<CommittedMessage>): Promise<CommittedMessage> {
    const leave = () => this.admission.leave();
    result.then(leave, leave);
    return result;
  }
}
