/**
 * Storage ports: one interface per concern. The embedded store implements them on LMDB; the
 * production store on Redis (hot state) and Cassandra (durable history).
 *
 * Durability contract: a write method resolves once its result is known (a new seq, a version),
 * which may be before the write is durable. `Stores.durable()` resolves once every write issued
 * before the call is durable; the logic acknowledges nothing before awaiting it. This lets a
 * store that commits in batches (LMDB) put one message's writes in one commit. A read issued
 * after a write has resolved sees that write.
 */
import type { EntryRecord, MessageRecord } from '../protocol/bodies.ts';

export interface Account {
  readonly userId: string;
  readonly salt: string;
  readonly passwordHash: string;
  readonly createdAt: number;
}

export interface TokenRecord {
  readonly userId: string;
  readonly deviceId: string;
  readonly expiresAt: number;
}

export interface AccountStore {
  /** Creates the account; false when the user id is taken. */
  create(account: Account): Promise<boolean>;
  get(userId: string): Promise<Account | undefined>;
}

export interface TokenStore {
  /** Tokens are stored by the hash of their secret, never in the clear. */
  put(tokenHash: string, record: TokenRecord): Promise<void>;
  get(tokenHash: string): Promise<TokenRecord | undefined>;
  revoke(tokenHash: string): Promise<void>;
}

export interface SequenceStore {
  /** The next sequence of a conversation: 1, 2, 3 …, never reused, also across restarts. */
  next(conversationId: string): Promise<number>;
}

export interface HistoryPage {
  readonly messages: MessageRecord[];
  readonly hasMore: boolean;
}

export interface HistoryStore {
  /** Stores a message under its conversation and seq; storing the same seq again overwrites it. */
  put(message: MessageRecord): Promise<void>;
  get(conversationId: string, seq: number): Promise<MessageRecord | undefined>;
  /** Messages with seq < beforeSeq (all when undefined), newest first. */
  page(conversationId: string, beforeSeq: number | undefined, limit: number): Promise<HistoryPage>;
}

export type NewEntry = Omit<EntryRecord, 'version'>;

export interface InboxRead {
  readonly entries: EntryRecord[];
  /** The user's latest version (0 when the inbox is empty). */
  readonly latestVersion: number;
  /** The oldest version still kept; a reader behind it has lost entries. */
  readonly oldestVersion: number;
}

export interface InboxStore {
  /** Appends an entry with the user's next version and returns that version. */
  append(userId: string, entry: NewEntry): Promise<number>;
  /** Entries with version > sinceVersion, ascending, at most `limit`. */
  read(userId: string, sinceVersion: number, limit: number): Promise<InboxRead>;
  latestVersion(userId: string): Promise<number>;
  setCursor(userId: string, deviceId: string, version: number): Promise<void>;
  cursor(userId: string, deviceId: string): Promise<number>;
}

/** What a client message id was given, so that a resend gets the same answer. */
export interface DedupRecord {
  readonly messageId: string;
  readonly conversationId: string;
  readonly seq: number;
  readonly sentAt: number;
  /** The sender's inbox version of the carbon; absent while the message is still being stored. */
  readonly version?: number;
}

export interface DedupStore {
  get(userId: string, clientMsgId: string): Promise<DedupRecord | undefined>;
  put(userId: string, clientMsgId: string, record: DedupRecord): Promise<void>;
}

/** One conversation in one user's list. */
export interface ConversationState {
  readonly conversationId: string;
  readonly peer: string;
  readonly unread: number;
  readonly readSeq: number;
  readonly lastSeq: number;
  readonly updatedAt: number;
  readonly lastMessage?: MessageRecord;
}

export interface ConversationList {
  readonly items: ConversationState[];
  readonly totalUnread: number;
}

/**
 * Per-user conversation lists with unread counts. Each method updates one conversation and the
 * user's total together, so the total always equals the sum of the per-conversation counts.
 */
export interface ConversationStore {
  /** A message entered the conversation: it becomes the last message, and an incoming one adds 1 unread. */
  recordMessage(userId: string, peer: string, message: MessageRecord, incoming: boolean): Promise<void>;
  /** Moves the read mark forward to `seq`, taking `cleared` off the unread count; false when it would not move. */
  markRead(userId: string, conversationId: string, seq: number, cleared: number): Promise<boolean>;
  /** Replaces the last message when it is this one (a recall), and takes `unreadDelta` off the unread count. */
  updateMessage(userId: string, message: MessageRecord, unreadDelta: number): Promise<void>;
  get(userId: string, conversationId: string): Promise<ConversationState | undefined>;
  /** Most recently updated first. */
  list(userId: string, limit: number): Promise<ConversationList>;
}

/** Messages a user deleted for themselves only. */
export interface HiddenStore {
  hide(userId: string, conversationId: string, seq: number): Promise<void>;
  isHidden(userId: string, conversationId: string, seq: number): Promise<boolean>;
}

/** A 1:1 message as the sender gave it, with the ids the server chose for it. */
export interface MessageInput {
  readonly from: string;
  readonly to: string;
  readonly conversationId: string;
  readonly clientMsgId: string;
  readonly kind: number;
  readonly content: string;
  readonly messageId: string;
  readonly sentAt: number;
}

/** What one commit wrote: the stored message and the inbox version it took in each inbox. */
export interface CommittedMessage {
  /** False for a resend of a message already committed: nothing was written, nothing is to be pushed. */
  readonly fresh: boolean;
  readonly message: MessageRecord;
  readonly receiverVersion: number;
  readonly senderVersion: number;
}

/**
 * Everything one message writes, as one unit: the dedup claim (per sender, conversation and
 * client id), the seq, the history row, the receiver's inbox entry and the sender's carbon, both
 * conversation rows and the receiver's unread count. Resolves once all of it is durable; a seq is
 * handed out and stored together or not at all. Commits of one conversation take seqs in call order.
 */
export interface MessageStore {
  commit(input: MessageInput): Promise<CommittedMessage>;
}

/** An operator's sanctions of a user, each until a time in ms; 0 when not in force. */
export interface Sanctions {
  /** May not send at all. */
  readonly mutedUntil: number;
  /** May send text (kind 1) only: no media or other kinds. */
  readonly textOnlyUntil: number;
}

export const NO_SANCTIONS: Sanctions = { mutedUntil: 0, textOnlyUntil: 0 };

export interface ModerationStore {
  /** Replaces the user's sanctions; all 0 removes them. */
  set(userId: string, sanctions: Sanctions): Promise<void>;
  get(userId: string): Promise<Sanctions>;
}

export interface Stores {
  readonly messages: MessageStore;
  readonly accounts: AccountStore;
  readonly tokens: TokenStore;
  readonly sequences: SequenceStore;
  readonly history: HistoryStore;
  readonly inbox: InboxStore;
  readonly dedup: DedupStore;
  readonly conversations: ConversationStore;
  readonly hidden: HiddenStore;
  readonly moderation: ModerationStore;
  /** Resolves once every write issued before the call is durable; rejects if one failed. */
  durable(): Promise<void>;
  close(): Promise<void>;
}
