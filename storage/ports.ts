/**
 * Storage ports: one interface per concern. The embedded store implements them on LMDB; the
 * production store on Redis (hot state) and Cassandra (durable history). Every method resolves
 * only once its write is durable, so the logic may acknowledge what it has awaited.
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

export interface Stores {
  readonly accounts: AccountStore;
  readonly tokens: TokenStore;
  readonly sequences: SequenceStore;
  readonly history: HistoryStore;
  readonly inbox: InboxStore;
  readonly dedup: DedupStore;
  close(): Promise<void>;
}
