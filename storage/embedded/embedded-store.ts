/**
 * The embedded store: every port on one LMDB environment in a local directory. Writes are queued
 * in issue order and committed in batches (group commit); a committed write is in the file and
 * survives the process being killed. Write methods resolve at once and `durable()` waits for the
 * commit of the last write issued, which implies every earlier one.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import type { EntryRecord, MessageRecord } from '../../protocol/bodies.ts';
import { Limits } from '../../protocol/timers.ts';
import type {
  Account,
  AccountStore,
  DedupRecord,
  DedupStore,
  HistoryPage,
  HiddenStore,
  ModerationStore,
  Sanctions,
  HistoryStore,
  InboxPosition,
  InboxRead,
  InboxStore,
  NewEntry,
  SequenceStore,
  Stores,
  TokenRecord,
  TokenStore,
} from '../ports.ts';
import { NO_SANCTIONS } from '../ports.ts';
import { Counters, type WriteTracker } from './counters.ts';
import { EmbeddedConversations } from './conversations.ts';
import { decodeHistoryRow, encodeHistoryRow, historyRowStoredAt } from './history-row.ts';
import { EmbeddedGroups } from './groups.ts';
import { EmbeddedMessages } from './messages.ts';
import { PendingWrites } from './pending.ts';
import { EmbeddedRoomLog } from './room-log.ts';

export interface EmbeddedStoreOptions {
  readonly path: string;
  /** Inbox entries kept per user; older ones are dropped first. */
  readonly inboxMaxEntries?: number;
  /** How long an inbox entry is kept (default 7 days). */
  readonly inboxRetentionMs?: number;
  /** How long a message stays in history (default 180 days). */
  readonly historyRetentionMs?: number;
  /** Reliable room messages kept per room, and for how long (default 1,000 and 24 h). */
  readonly roomLogEntries?: number;
  readonly roomLogRetentionMs?: number;
  /** Memory the cached conversation lists may take (default 64 MiB); least recently used users are dropped beyond it. */
  readonly conversationCacheBytes?: number;
  /** The store's clock, for retention; tests replace it. */
  readonly now?: () => number;
}

const WEEK_MS = 7 * 24 * 3600 * 1000;
const HISTORY_RETENTION_MS = 180 * 24 * 3600 * 1000;

/**
 * An inbox entry as stored: the entry and when it was appended. A message committed with its
 * history row is stored as a reference (no `message`, `ref` set) and read back joined with the
 * row, so its content is serialized once, in history.
 */
type StoredEntry = EntryRecord & { readonly at?: number; readonly ref?: 1 };

/**
 * Old entries are removed every PRUNE_EVERY appends of a user, at most PRUNE_BATCH at a time:
 * more than the appends in between, so pruning keeps up, and bounded, so one append stays cheap.
 * Reads never show entries past the window, pruned yet or not. The newest entry is never
 * removed: it carries the user's version across restarts.
 */
const PRUNE_EVERY = 16;

/** What an entry adds to a read besides its message's row (ids, version, type), for byte-budgeted reads. */
const ENTRY_BYTES = 64;
const PRUNE_BATCH = 32;

type Key = string | number | (string | number)[];

function sub<V>(root: RootDatabase, name: string): Database<V, Key> {
  return root.openDB<V, Key>({ name, encoding: 'msgpack' });
}

class EmbeddedAccounts implements AccountStore {
  constructor(private readonly db: Database<Account, Key>) {}
  async create(account: Account): Promise<boolean> {
    return this.db.ifNoExists(account.userId, () => this.db.put(account.userId, account));
  }
  async get(userId: string): Promise<Account | undefined> {
    return this.db.get(userId);
  }
}

class EmbeddedTokens implements TokenStore {
  constructor(private readonly db: Database<TokenRecord, Key>) {}
  async put(tokenHash: string, record: TokenRecord): Promise<void> {
    await this.db.put(tokenHash, record);
  }
  async get(tokenHash: string): Promise<TokenRecord | undefined> {
    return this.db.get(tokenHash);
  }
  async revoke(tokenHash: string): Promise<void> {
    await this.db.remove(tokenHash);
  }
}

class EmbeddedSequences implements SequenceStore {
  constructor(private readonly counters: Counters) {}
  async next(conversationId: string): Promise<number> {
    return this.counters.next(`seq:${conversationId}`);
  }
}

/**
 * Messages stored longer ago than the retention period are no longer returned (as Cassandra's
 * row TTL does). Seqs follow time within a conversation, so a page stops at the first expired one.
 */
class EmbeddedHistory implements HistoryStore {
  constructor(
    private readonly db: Database<Buffer, Key>,
    private readonly track: WriteTracker,
    private readonly pending: PendingWrites,
    private readonly retention: { readonly ms: number; readonly now: () => number },
  ) {}

  private expired(row: Buffer): boolean {
    return historyRowStoredAt(row) < this.retention.now() - this.retention.ms;
  }

  private live(row: Buffer | undefined): MessageRecord | undefined {
    return row && !this.expired(row) ? decodeHistoryRow(row) : undefined;
  }

  async put(message: MessageRecord): Promise<void> {
    await this.putNow(message);
  }

  putNow(message: MessageRecord): Promise<unknown> {
    const write = this.db.put([message.conversationId, message.seq], encodeHistoryRow(message, this.retention.now()));
    this.track(write, `h\0${message.conversationId}`);
    return write.then(() => undefined);
  }

  /** The last seq stored for a conversation, for the counter after a restart. */
  lastStoredSeq(conversationId: string): number {
    for (const { key } of this.db.getRange({ start: [conversationId, Number.MAX_SAFE_INTEGER], end: [conversationId, 0], reverse: true, limit: 1 })) {
      return Number((key as [string, number])[1]);
    }
    return 0;
  }

  /** A committed message, read at once (no wait for pending writes). */
  committed(conversationId: string, seq: number): MessageRecord | undefined {
    return this.live(this.db.get([conversationId, seq]));
  }

  /** A committed message and the size of its row, for reads filled to a byte budget. */
  committedSized(conversationId: string, seq: number): { message: MessageRecord; bytes: number } | undefined {
    const row = this.db.get([conversationId, seq]);
    const message = this.live(row);
    return message && row ? { message, bytes: row.length } : undefined;
  }
  async get(conversationId: string, seq: number): Promise<MessageRecord | undefined> {
    await this.pending.settled(`h\0${conversationId}`);
    return this.live(this.db.get([conversationId, seq]));
  }

  async getSized(conversationId: string, seq: number): Promise<{ message: MessageRecord; bytes: number } | undefined> {
    await this.pending.settled(`h\0${conversationId}`);
    return this.committedSized(conversationId, seq);
  }

  /** Messages with seq > afterSeq, oldest first: a group timeline read from a member's cursor. */
  async range(conversationId: string, afterSeq: number, limit: number): Promise<MessageRecord[]> {
    await this.pending.settled(`h\0${conversationId}`);
    const messages: MessageRecord[] = [];
    for (const { value } of this.db.getRange({ start: [conversationId, afterSeq + 1], end: [conversationId, Number.MAX_SAFE_INTEGER], limit })) {
      if (!this.expired(value)) messages.push(decodeHistoryRow(value));
    }
    return messages;
  }

  async page(conversationId: string, beforeSeq: number | undefined, limit: number, maxBytes = Infinity): Promise<HistoryPage> {
    await this.pending.settled(`h\0${conversationId}`);
    // Seqs are integers and the range start is inclusive: seq < beforeSeq starts at beforeSeq - 1.
    // One more than the limit is read to tell whether older messages remain.
    const start: Key = [conversationId, beforeSeq === undefined ? Number.MAX_SAFE_INTEGER : beforeSeq - 1];
    const messages: MessageRecord[] = [];
    if (beforeSeq !== undefined && beforeSeq <= 1) return { messages, hasMore: false };
    let hasMore = false;
    let bytes = 0;
    for (const { value } of this.db.getRange({ start, end: [conversationId, 0], reverse: true, limit: limit + 1 })) {
      if (this.expired(value)) break;
      // Rows are only decoded once they are known to be wanted.
      if (messages.length === limit || bytes >= maxBytes) {
        hasMore = true;
        break;
      }
      bytes += value.length;
      messages.push(decodeHistoryRow(value));
    }
    return { messages, hasMore };
  }
}

class EmbeddedInbox implements InboxStore {
  constructor(
    private readonly entries: Database<StoredEntry, Key>,
    private readonly cursors: Database<number, Key>,
    private readonly counters: Counters,
    private readonly limits: { readonly maxEntries: number; readonly retentionMs: number; readonly now: () => number },
    private readonly track: WriteTracker,
    private readonly pending: PendingWrites,
    /** Committed history rows and their sizes, for entries stored as references. */
    private readonly messages: (conversationId: string, seq: number) => { message: MessageRecord; bytes: number } | undefined,
    /** The store's inbox epoch: made once and persisted, since this store loses no inbox state it acknowledged. */
    readonly epoch: string,
  ) {}

  async append(userId: string, entry: NewEntry): Promise<InboxPosition> {
    return { version: this.appendNow(userId, entry), epoch: this.epoch };
  }

  /** Appends at once and returns the version; the write is committed with the store's others. */
  appendNow(userId: string, entry: NewEntry): number {
    return this.appendStored(userId, entry);
  }

  /** Appends a message whose history row is written in the same commit, as a reference to that row. */
  appendReference(userId: string, entry: NewEntry): number {
    const { message: _message, ...reference } = entry;
    return this.appendStored(userId, { ...reference, ref: 1 });
  }

  private appendStored(userId: string, stored: Omit<StoredEntry, 'version' | 'at'>): number {
    // The entry is the record of the version: no counter write.
    const version = this.counters.next(`ver:${userId}`, false);
    const now = this.limits.now();
    this.track(this.entries.put([userId, version], { ...stored, version, at: now }), `i\0${userId}`);
    if (version % PRUNE_EVERY === 0) this.prune(userId, version, now);
    return version;
  }

  /** Removes entries that fell out of the kept window (by count or age), oldest first, never the newest. */
  private prune(userId: string, version: number, now: number): void {
    const cutoff = now - this.limits.retentionMs;
    for (const { key, value } of this.entries.getRange({ start: [userId, 0], end: [userId, version], limit: PRUNE_BATCH })) {
      if (value.version > version - this.limits.maxEntries && (value.at ?? now) >= cutoff) break;
      this.track(this.entries.remove(key), `i\0${userId}`);
    }
  }

  /** The last version stored for a user, for the counter after a restart. */
  lastStoredVersion(userId: string): number {
    for (const { key } of this.entries.getRange({ start: [userId, Number.MAX_SAFE_INTEGER], end: [userId, 0], reverse: true, limit: 1 })) {
      return Number((key as [string, number])[1]);
    }
    return 0;
  }

  async read(userId: string, sinceVersion: number, limit: number, maxBytes = Infinity): Promise<InboxRead> {
    await this.pending.settled(`i\0${userId}`);
    const latestVersion = this.counters.current(`ver:${userId}`);
    const cutoff = this.limits.now() - this.limits.retentionMs;
    // Entries are appended in time order, so the expired ones are a prefix of the timeline.
    let oldestVersion = latestVersion + 1;
    for (const { value } of this.entries.getRange({ start: [userId, 0], end: [userId, Number.MAX_SAFE_INTEGER], limit: this.limits.maxEntries })) {
      if ((value.at ?? cutoff) >= cutoff) {
        oldestVersion = value.version;
        break;
      }
    }
    oldestVersion = Math.max(oldestVersion, latestVersion - this.limits.maxEntries + 1, 1);
    const entries: EntryRecord[] = [];
    const start = Math.max(sinceVersion + 1, oldestVersion);
    let bytes = 0;
    for (const { value } of this.entries.getRange({ start: [userId, start], end: [userId, Number.MAX_SAFE_INTEGER], limit })) {
      if (bytes >= maxBytes) break;
      const { at: _at, ref, ...entry } = value;
      const joined = ref ? this.messages(entry.conversationId, entry.seq) : undefined;
      bytes += ENTRY_BYTES + (joined?.bytes ?? (entry.message ? entry.message.content.length : 0));
      entries.push(joined ? { ...entry, message: joined.message } : entry);
    }
    return { epoch: this.epoch, entries, latestVersion, oldestVersion: Math.min(oldestVersion, latestVersion + 1) };
  }

  async position(userId: string): Promise<InboxPosition> {
    return { version: this.counters.current(`ver:${userId}`), epoch: this.epoch };
  }

  async setCursor(userId: string, deviceId: string, version: number): Promise<void> {
    this.track(this.cursors.put([userId, deviceId], version), `c\0${userId}\0${deviceId}`);
  }

  async cursor(userId: string, deviceId: string): Promise<number> {
    await this.pending.settled(`c\0${userId}\0${deviceId}`);
    return this.cursors.get([userId, deviceId]) ?? 0;
  }
}

class EmbeddedDedup implements DedupStore {
  private readonly claims = new Map<string, DedupRecord>();
  constructor(
    private readonly db: Database<DedupRecord, Key>,
    private readonly track: WriteTracker,
    private readonly pending: PendingWrites,
  ) {}
  async get(userId: string, clientMsgId: string): Promise<DedupRecord | undefined> {
    // A resend racing its first attempt must see the first attempt's record.
    await this.pending.settled(`d\0${userId}\0${clientMsgId}`);
    return this.db.get([userId, clientMsgId]);
  }
  async put(userId: string, clientMsgId: string, record: DedupRecord): Promise<void> {
    this.track(this.db.put([userId, clientMsgId], record), `d\0${userId}\0${clientMsgId}`);
  }
  async claim(userId: string, clientMsgId: string, record: DedupRecord): Promise<DedupRecord | undefined> {
    const key = `${userId}\0${clientMsgId}`;
    // Claims not yet committed are held here, so a concurrent claim sees them before LMDB does.
    const known = this.claims.get(key) ?? this.db.get([userId, clientMsgId]);
    if (known) return known;
    this.claims.set(key, record);
    const write = this.db.put([userId, clientMsgId], record);
    this.track(write, `d\0${key}`);
    await write.finally(() => this.claims.delete(key));
    return undefined;
  }
}

class EmbeddedHidden implements HiddenStore {
  constructor(
    private readonly db: Database<true, Key>,
    private readonly track: WriteTracker,
    private readonly pending: PendingWrites,
  ) {}
  async hide(userId: string, conversationId: string, seq: number): Promise<void> {
    this.track(this.db.put([userId, conversationId, seq], true), `x\0${userId}\0${conversationId}`);
  }
  async isHidden(userId: string, conversationId: string, seq: number): Promise<boolean> {
    await this.pending.settled(`x\0${userId}\0${conversationId}`);
    return this.db.get([userId, conversationId, seq]) === true;
  }
}

/**
 * The data directory holds password and token hashes and every message: it is the server's own,
 * 0700, and its files 0600, whatever the umask. The path is always a directory, also when its
 * name has a dot (`mktemp -d` makes /tmp/tmp.XXXX), which LMDB would otherwise take for a file.
 */
function openPrivateEnvironment(path: string): RootDatabase {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  chmodSync(path, 0o700);
  const umask = process.umask(0o077);
  try {
    const root = open({ path, noSubdir: false, compression: false, maxDbs: 24 });
    // Files from before this policy keep their old mode otherwise.
    for (const file of ['data.mdb', 'lock.mdb']) if (existsSync(join(path, file))) chmodSync(join(path, file), 0o600);
    return root;
  } finally {
    process.umask(umask);
  }
}

class EmbeddedModeration implements ModerationStore {
  constructor(
    private readonly db: Database<Sanctions, Key>,
    private readonly track: WriteTracker,
    private readonly pending: PendingWrites,
  ) {}
  async set(userId: string, sanctions: Sanctions): Promise<void> {
    const none = sanctions.mutedUntil <= 0 && sanctions.textOnlyUntil <= 0;
    this.track(none ? this.db.remove(userId) : this.db.put(userId, { mutedUntil: sanctions.mutedUntil, textOnlyUntil: sanctions.textOnlyUntil }), `m\0${userId}`);
  }
  async get(userId: string): Promise<Sanctions> {
    await this.pending.settled(`m\0${userId}`);
    return this.db.get(userId) ?? NO_SANCTIONS;
  }
}

/** The persisted inbox epoch, made on the first open (a data directory from before epochs gets one too; its versions go on). */
function inboxEpoch(meta: Database<string, string>): string {
  const stored = meta.get('inboxEpoch');
  if (stored !== undefined) return stored;
  const epoch = randomBytes(8).toString('hex');
  meta.putSync('inboxEpoch', epoch);
  return epoch;
}

export function openEmbeddedStore(options: EmbeddedStoreOptions): Stores {
  const root = openPrivateEnvironment(options.path);
  // LMDB commits batches in issue order, so the last write's promise covers every earlier write.
  let lastWrite: Promise<unknown> = Promise.resolve();
  const pending = new PendingWrites();
  const track: WriteTracker = (write, scope) => {
    lastWrite = write;
    if (scope !== undefined) pending.add(scope, write);
  };
  // The counters are derived from the data where the data numbers itself (see Counters).
  let derive = (_key: string): number => 0;
  const counters = new Counters(root.openDB<number, string>({ name: 'counters', encoding: 'msgpack' }), track, (key) => derive(key));
  const history = new EmbeddedHistory(root.openDB<Buffer, Key>({ name: 'history', encoding: 'binary' }), track, pending, { ms: options.historyRetentionMs ?? HISTORY_RETENTION_MS, now: options.now ?? Date.now });
  const inbox = new EmbeddedInbox(
    sub(root, 'inbox'),
    sub(root, 'cursors'),
    counters,
    { maxEntries: options.inboxMaxEntries ?? 10_000, retentionMs: options.inboxRetentionMs ?? WEEK_MS, now: options.now ?? Date.now },
    track,
    pending,
    (conversationId, seq) => history.committedSized(conversationId, seq),
    inboxEpoch(root.openDB<string, string>({ name: 'meta', encoding: 'msgpack' })),
  );
  const roomLog = new EmbeddedRoomLog(root.openDB({ name: 'roomlog', encoding: 'msgpack' }), counters, track, pending, {
    maxEntries: options.roomLogEntries ?? Limits.roomLogEntries,
    retentionMs: options.roomLogRetentionMs ?? Limits.roomLogRetentionMs,
    now: options.now ?? Date.now,
  });
  derive = (key) => {
    if (key.startsWith('seq:')) return history.lastStoredSeq(key.slice(4));
    if (key.startsWith('room:')) return roomLog.lastStoredSeq(key.slice(5));
    if (key.startsWith('ver:')) return inbox.lastStoredVersion(key.slice(4));
    return 0;
  };
  const conversations = new EmbeddedConversations(sub(root, 'conversations'), track, (conversationId, seq) => history.getSized(conversationId, seq), options.conversationCacheBytes);
  const dedupDb = sub<DedupRecord>(root, 'dedup');
  const messages = new EmbeddedMessages({
    dedup: {
      get: (key) => dedupDb.get(key),
      put: (key, record) => {
        const write = dedupDb.put(key, record);
        track(write);
        return write;
      },
    },
    // The history row is the record of its seq: no counter write.
    nextSeq: (conversationId) => counters.next(`seq:${conversationId}`, false),
    putHistory: (message) => history.putNow(message),
    appendInbox: (userId, entry) => inbox.appendReference(userId, entry),
    inboxEpoch: inbox.epoch,
    recordConversation: (userId, peer, message, incoming) => conversations.recordReference(userId, peer, message, incoming),
    flushConversations: () => conversations.flush(),
    message: (conversationId, seq) => history.committed(conversationId, seq),
  });
  const groups = new EmbeddedGroups(
    { groups: sub(root, 'groups'), members: sub(root, 'groupMembers'), userGroups: sub(root, 'userGroups'), dedup: dedupDb },
    {
      nextSeq: (conversationId) => counters.next(`seq:${conversationId}`, false),
      currentSeq: (conversationId) => counters.current(`seq:${conversationId}`),
      putHistory: (message) => history.putNow(message),
      committedMessage: (conversationId, seq) => history.committed(conversationId, seq),
      range: (conversationId, afterSeq, limit) => history.range(conversationId, afterSeq, limit),
      appendInboxReference: (userId, entry) => inbox.appendReference(userId, entry),
      inboxEpoch: inbox.epoch,
    },
    track,
  );
  return {
    messages,
    groups,
    roomLog,
    accounts: new EmbeddedAccounts(sub(root, 'accounts')),
    tokens: new EmbeddedTokens(sub(root, 'tokens')),
    sequences: new EmbeddedSequences(counters),
    history,
    inbox,
    dedup: new EmbeddedDedup(dedupDb, track, pending),
    conversations,
    hidden: new EmbeddedHidden(sub(root, 'hidden'), track, pending),
    moderation: new EmbeddedModeration(sub(root, 'moderation'), track, pending),
    durable: async () => {
      conversations.flush();
      await lastWrite;
    },
    close: async () => {
      conversations.flush();
      await lastWrite.catch(() => undefined);
      await root.close();
    },
  };
}
