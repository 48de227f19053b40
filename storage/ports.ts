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
import type { EntryRecord, MessageRecord, RoomMessageRecord } from '../protocol/bodies.ts';

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
  /**
   * Messages with seq < beforeSeq (all when undefined), newest first. With `maxBytes` a store may
   * stop early, after the message that brings what it read to that many stored bytes (at least one
   * message; `hasMore` still tells whether older ones remain), so a caller that fills a page to a
   * byte budget does not make it read and decode messages it will not send.
   */
  page(conversationId: string, beforeSeq: number | undefined, limit: number, maxBytes?: number): Promise<HistoryPage>;
}

export type NewEntry = Omit<EntryRecord, 'version'>;

/**
 * Where an inbox stands: a version within an epoch. Versions count 1, 2, 3 … within one epoch and
 * are never reused in it; a store that may have lost inbox state (a Redis that restarted empty)
 * starts a new epoch, and only then do versions start over. A reader compares epochs before it
 * compares versions (SPEC §11.2).
 */
export interface InboxPosition {
  readonly epoch: string;
  readonly version: number;
}

export interface InboxRead {
  /** The epoch the entries and versions belong to. */
  readonly epoch: string;
  readonly entries: EntryRecord[];
  /** The user's latest version (0 when the inbox is empty). */
  readonly latestVersion: number;
  /** The oldest version still kept; a reader behind it has lost entries. */
  readonly oldestVersion: number;
}

export interface InboxStore {
  /** Appends an entry with the user's next version and returns that version with its epoch, decided together. */
  append(userId: string, entry: NewEntry): Promise<InboxPosition>;
  /** Entries with version > sinceVersion, ascending, at most `limit`; `maxBytes` as in HistoryStore.page. */
  read(userId: string, sinceVersion: number, limit: number, maxBytes?: number): Promise<InboxRead>;
  /** The user's latest version (0 when the inbox is empty) in the current epoch. */
  position(userId: string): Promise<InboxPosition>;
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
  /** The epoch of `version` (absent in records written before epochs). */
  readonly epoch?: string;
}

export interface DedupStore {
  get(userId: string, clientMsgId: string): Promise<DedupRecord | undefined>;
  put(userId: string, clientMsgId: string, record: DedupRecord): Promise<void>;
  /**
   * Stores the record unless one exists, in one step (a resend reaching two nodes at once claims
   * once): resolves with the record already there, or undefined when this call stored it.
   */
  claim(userId: string, clientMsgId: string, record: DedupRecord): Promise<DedupRecord | undefined>;
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
  /**
   * Changes of the read state: every read mark that moved and every recall that took a message
   * off the count adds one (absent: 0). markRead checks it, so a count made before a concurrent
   * change is never applied after it.
   */
  readonly rev?: number;
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
  /**
   * Moves the read mark forward to `seq`, taking `cleared` off the unread count, in one atomic
   * step; false when it would not move, or when `expectedRev` is given and the row's rev differs
   * (check-and-set: the caller counted `cleared` from a state that has changed since).
   */
  markRead(userId: string, conversationId: string, seq: number, cleared: number, expectedRev?: number): Promise<boolean>;
  /**
   * Replaces the last message when it is this one (a recall), and takes `unreadDelta` off the
   * unread count when the message is still after the read mark, deciding both atomically.
   */
  updateMessage(userId: string, message: MessageRecord, unreadDelta: number): Promise<void>;
  /**
   * Claims the recall of one message: true for exactly one of any number of calls, concurrent or
   * not, on any node; the claimer writes the tombstone and the recall entries.
   */
  claimRecall(conversationId: string, seq: number): Promise<boolean>;
  /** Gives up a claim whose tombstone could not be written, so that the recall can be retried. */
  releaseRecall(conversationId: string, seq: number): Promise<void>;
  get(userId: string, conversationId: string): Promise<ConversationState | undefined>;
  /**
   * Most recently updated first. With `maxBytes` a store may leave out the last messages of the
   * items after those whose messages reach that many stored bytes (what a page budget would drop).
   */
  list(userId: string, limit: number, maxBytes?: number): Promise<ConversationList>;
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
  /** The epochs of the two versions; absent when the version is 0 or its epoch is not known (a resend). */
  readonly receiverEpoch?: string;
  readonly senderEpoch?: string;
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

/** A group's settings and counts, as stored. */
export interface GroupState {
  readonly groupId: string;
  readonly name: string;
  readonly notice: string;
  readonly owner: string;
  readonly open: boolean;
  readonly mutedAll: boolean;
  readonly noMedia: boolean;
  readonly historyForNewMembers: boolean;
  readonly createdAt: number;
  readonly memberCount: number;
  /** The seq of the latest timeline entry (message or event). */
  readonly lastSeq: number;
  /** Write diffusion: every member's inbox gets an entry per message (small groups, §18.4). */
  readonly writeDiffused: boolean;
}

export interface GroupMemberState {
  readonly userId: string;
  readonly role: number;
  readonly joinedAt: number;
  /** The seq of the event that added the member: the first one they see unless history is open. */
  readonly joinSeq: number;
  /** Muted until this time (ms); 0 = not muted. */
  readonly mutedUntil: number;
  /** Read up to this seq (inclusive). */
  readonly readSeq: number;
}

/** A settings or membership change, committed together with the timeline event that tells of it. */
export type GroupChange =
  | { readonly kind: 'create'; readonly group: Omit<GroupState, 'memberCount' | 'lastSeq'>; readonly members: readonly Omit<GroupMemberState, 'joinSeq' | 'readSeq'>[] }
  | { readonly kind: 'addMembers'; readonly members: readonly Omit<GroupMemberState, 'joinSeq' | 'readSeq'>[] }
  | { readonly kind: 'removeMember'; readonly userId: string }
  | { readonly kind: 'updateMember'; readonly userId: string; readonly role?: number; readonly mutedUntil?: number }
  | { readonly kind: 'updateGroup'; readonly fields: Partial<Pick<GroupState, 'name' | 'notice' | 'open' | 'mutedAll' | 'noMedia' | 'owner' | 'writeDiffused'>> }
  | { readonly kind: 'transfer'; readonly from: string; readonly to: string; readonly fromRole: number }
  | { readonly kind: 'dissolve' };

/** A timeline entry before it has a seq: a member's message or a server event. */
export type GroupEntryInput = Omit<MessageRecord, 'seq' | 'conversationId'>;

export interface GroupPost {
  /** False for a resend of a message already committed. */
  readonly fresh: boolean;
  readonly message: MessageRecord;
  /** Write-diffused groups: each member's inbox position of the entry (empty otherwise). */
  readonly versions: ReadonlyMap<string, InboxPosition>;
}

export interface GroupMemberPage {
  readonly members: GroupMemberState[];
  readonly hasMore: boolean;
}

/**
 * Groups stored once (read diffusion): settings, members with their roles, join seq and read
 * mark, and one timeline per group in the history store under the group's conversation id.
 * Every change and every message is one unit: its timeline row, the state it changes, and the
 * seq it takes, together or not at all. Entries of one group take seqs in call order.
 */
export interface GroupStore {
  get(groupId: string): Promise<GroupState | undefined>;
  member(groupId: string, userId: string): Promise<GroupMemberState | undefined>;
  /** Every member's user id; the array is shared and must not be changed. */
  memberIds(groupId: string): Promise<readonly string[]>;
  /** Members ordered by user id, after `after` (exclusive). */
  members(groupId: string, after: string | undefined, limit: number): Promise<GroupMemberPage>;
  /** The groups a user is a member of. */
  groupsOf(userId: string): Promise<readonly string[]>;
  /** Applies the change and appends its event to the timeline; resolves with the stored event once durable. */
  change(groupId: string, change: GroupChange, event: GroupEntryInput): Promise<MessageRecord>;
  /**
   * Appends a member's message, deduplicated by sender and client id, and moves the sender's
   * read mark to it; in a write-diffused group also enters it in every member's inbox.
   */
  post(groupId: string, message: GroupEntryInput): Promise<GroupPost>;
  /** Every member's read seq (for read receipts of small groups). */
  readSeqs(groupId: string): Promise<ReadonlyMap<string, number>>;
  /** Moves a member's read mark forward; false when it would not move. */
  markRead(groupId: string, userId: string, seq: number): Promise<boolean>;
  /** Timeline entries with seq > afterSeq, ascending, at most `limit`. */
  timeline(groupId: string, afterSeq: number, limit: number): Promise<MessageRecord[]>;
}

/** What a room's log holds: the seqs still kept and the latest one given out. */
export interface RoomLogState {
  /** The room's latest reliable seq (0 before the first). */
  readonly latestSeq: number;
  /** The oldest seq still kept; latestSeq + 1 when nothing is kept. */
  readonly oldestSeq: number;
}

export interface RoomLogPage extends RoomLogState {
  readonly messages: RoomMessageRecord[];
  readonly hasMore: boolean;
}

/**
 * The reliable messages of live rooms (gifts, red packets, cards), each under the room's next
 * seq: 1, 2, 3 …, never reused, also across restarts. Retention is bounded (a number of
 * messages per room and an age): older messages are no longer returned, and `oldestSeq` says so.
 * `append` resolves once the message is durable; appends of one room take seqs in call order.
 */
export interface RoomLogStore {
  append(roomId: string, message: Omit<RoomMessageRecord, 'seq'>): Promise<RoomMessageRecord>;
  /** Messages with seq > afterSeq, ascending, at most `limit`. */
  range(roomId: string, afterSeq: number, limit: number): Promise<RoomLogPage>;
  state(roomId: string): Promise<RoomLogState>;
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
  readonly roomLog: RoomLogStore;
  readonly accounts: AccountStore;
  readonly tokens: TokenStore;
  readonly sequences: SequenceStore;
  readonly history: HistoryStore;
  readonly inbox: InboxStore;
  readonly dedup: DedupStore;
  readonly conversations: ConversationStore;
  readonly hidden: HiddenStore;
  /** Absent on stores that do not serve groups yet: group requests then answer 1011. */
  readonly groups?: GroupStore;
  readonly moderation: ModerationStore;
  /** Resolves once every write issued before the call is durable; rejects if one failed. */
  durable(): Promise<void>;
  close(): Promise<void>;
}
