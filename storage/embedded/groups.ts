/**
 * Groups on LMDB. The embedded store is owned by one process, so a group's state and member list
 * are kept in memory once loaded (bounded, least recently used first out) and every change is
 * decided synchronously and queued as one unit of puts, like a 1:1 commit (messages.ts). The
 * timeline is the history store under the group's conversation id: a message is stored once,
 * whatever the member count.
 */
import type { Database } from 'lmdb';
import { EntryType, GroupRole, type MessageRecord } from '../../protocol/bodies.ts';
import { groupConversationId } from '../../protocol/conversation-ids.ts';
import type { DedupRecord, GroupChange, GroupEntryInput, GroupMemberPage, GroupMemberState, GroupPost, GroupState, GroupStore, InboxPosition } from '../ports.ts';
import type { WriteTracker } from './counters.ts';

type Key = string | number | (string | number)[];

/** What the groups need from the rest of the embedded store. */
export interface GroupWriters {
  nextSeq(conversationId: string): number;
  putHistory(message: MessageRecord): Promise<unknown>;
  committedMessage(conversationId: string, seq: number): MessageRecord | undefined;
  /** Timeline rows with seq > afterSeq, ascending, once pending writes to them are committed. */
  range(conversationId: string, afterSeq: number, limit: number): Promise<MessageRecord[]>;
  appendInboxReference(userId: string, entry: { type: number; conversationId: string; seq: number }): number;
  /** The epoch of every version appendInboxReference gives. */
  readonly inboxEpoch: string;
  currentSeq(conversationId: string): number;
}

export interface GroupDatabases {
  readonly groups: Database<Omit<GroupState, 'lastSeq' | 'memberCount'>, Key>;
  readonly members: Database<GroupMemberState, Key>;
  readonly userGroups: Database<true, Key>;
  readonly dedup: Database<DedupRecord, Key>;
}

/**
 * Members held in memory across all cached groups. Beyond it the least recently used groups are
 * dropped from memory (not from disk) and reloaded on their next use.
 */
export const DEFAULT_MAX_CACHED_MEMBERS = 2_000_000;

interface CachedGroup {
  state: Omit<GroupState, 'lastSeq' | 'memberCount'>;
  readonly members: Map<string, GroupMemberState>;
  ids: string[] | undefined;
}


const END = '\uffff';

export class EmbeddedGroups implements GroupStore {
  private readonly cache = new Map<string, CachedGroup>();
  private cachedMembers = 0;
  private readonly pending = new Map<string, Promise<GroupPost>>();
  /** Puts and removes issued, for tests and benchmarks that count store writes per message. */
  writes = 0;

  constructor(
    private readonly db: GroupDatabases,
    private readonly writers: GroupWriters,
    private readonly track: WriteTracker,
    private readonly maxCachedMembers = DEFAULT_MAX_CACHED_MEMBERS,
  ) {}

  async get(groupId: string): Promise<GroupState | undefined> {
    const group = this.load(groupId);
    return group && this.snapshot(groupId, group);
  }

  async member(groupId: string, userId: string): Promise<GroupMemberState | undefined> {
    return this.load(groupId)?.members.get(userId);
  }

  async memberIds(groupId: string): Promise<readonly string[]> {
    const group = this.load(groupId);
    return group ? this.sortedIds(group) : [];
  }

  async members(groupId: string, after: string | undefined, limit: number): Promise<GroupMemberPage> {
    const group = this.load(groupId);
    if (!group) return { members: [], hasMore: false };
    const ids = this.sortedIds(group);
    let start = 0;
    if (after !== undefined) {
      let high = ids.length;
      while (start < high) {
        const middle = (start + high) >>> 1;
        if ((ids[middle] as string) <= after) start = middle + 1;
        else high = middle;
      }
    }
    const members = ids.slice(start, start + limit).map((userId) => group.members.get(userId) as GroupMemberState);
    return { members, hasMore: start + limit < ids.length };
  }

  async groupsOf(userId: string): Promise<readonly string[]> {
    const groups: string[] = [];
    for (const key of this.db.userGroups.getKeys({ start: [userId, ''], end: [userId, END] })) groups.push(String((key as [string, string])[1]));
    return groups;
  }

  async change(groupId: string, change: GroupChange, event: GroupEntryInput): Promise<MessageRecord> {
    const conversationId = groupConversationId(groupId);
    const seq = this.writers.nextSeq(conversationId);
    const message: MessageRecord = { ...event, conversationId, seq };
    this.apply(groupId, change, seq);
    const last = this.writers.putHistory(message);
    this.writes++;
    await last;
    return message;
  }

  post(groupId: string, input: GroupEntryInput): Promise<GroupPost> {
    const conversationId = groupConversationId(groupId);
    const key = [input.from, conversationId, input.clientMsgId];
    const dedupKey = key.join('\u0000');
    const racing = this.pending.get(dedupKey);
    if (racing) return racing.then((first) => ({ ...first, fresh: false, versions: new Map() }));
    const known = this.db.dedup.get(key);
    const stored = known && this.writers.committedMessage(conversationId, known.seq);
    if (stored) return Promise.resolve({ fresh: false, message: stored, versions: new Map() });
    const group = this.load(groupId);
    const seq = this.writers.nextSeq(conversationId);
    const message: MessageRecord = { ...input, conversationId, seq };
    void this.writers.putHistory(message);
    const versions = new Map<string, InboxPosition>();
    if (group?.state.writeDiffused) {
      for (const userId of group.members.keys()) versions.set(userId, { version: this.writers.appendInboxReference(userId, { type: EntryType.message, conversationId, seq }), epoch: this.writers.inboxEpoch });
      this.writes += group.members.size;
    }
    this.readUpTo(groupId, group, input.from, seq);
    const last = this.db.dedup.put(key, { messageId: message.messageId, conversationId, seq, sentAt: message.sentAt });
    this.track(last);
    this.writes += 2;
    const posted = last.then((): GroupPost => ({ fresh: true, message, versions }));
    this.pending.set(dedupKey, posted);
    const forget = () => this.pending.delete(dedupKey);
    posted.then(forget, forget);
    return posted;
  }

  async readSeqs(groupId: string): Promise<ReadonlyMap<string, number>> {
    const group = this.load(groupId);
    return new Map(group ? [...group.members.values()].map((m) => [m.userId, m.readSeq]) : []);
  }

  async markRead(groupId: string, userId: string, seq: number): Promise<boolean> {
    const moved = this.readUpTo(groupId, this.load(groupId), userId, seq);
    return moved;
  }

  timeline(groupId: string, afterSeq: number, limit: number): Promise<MessageRecord[]> {
    return this.writers.range(groupConversationId(groupId), afterSeq, limit);
  }

  /** Member ids in code-unit order (the order of `members` pages), computed once per membership change. */
  private sortedIds(group: CachedGroup): string[] {
    group.ids ??= [...group.members.keys()].sort();
    return group.ids;
  }

  private readUpTo(groupId: string, group: CachedGroup | undefined, userId: string, seq: number): boolean {
    const member = group?.members.get(userId);
    if (!group || !member || seq <= member.readSeq) return false;
    this.putMember(groupId, group, { ...member, readSeq: seq });
    return true;
  }

  private apply(groupId: string, change: GroupChange, seq: number): void {
    if (change.kind === 'create') {
      const group: CachedGroup = { state: change.group, members: new Map(), ids: undefined };
      this.cache.set(groupId, group);
      this.putState(groupId, group);
      for (const member of change.members) this.addMember(groupId, group, { ...member, joinSeq: seq, readSeq: seq });
      return;
    }
    const group = this.load(groupId);
    if (!group) return;
    switch (change.kind) {
      case 'addMembers':
        for (const member of change.members) this.addMember(groupId, group, { ...member, joinSeq: seq, readSeq: seq - 1 });
        break;
      case 'removeMember':
        this.removeMember(groupId, group, change.userId);
        break;
      case 'updateMember': {
        const member = group.members.get(change.userId);
        if (member) this.putMember(groupId, group, { ...member, ...definedFields({ role: change.role, mutedUntil: change.mutedUntil }) });
        break;
      }
      case 'updateGroup':
        group.state = { ...group.state, ...definedFields(change.fields) };
        this.putState(groupId, group);
        break;
      case 'transfer': {
        const from = group.members.get(change.from);
        const to = group.members.get(change.to);
        if (!from || !to) break;
        this.putMember(groupId, group, { ...from, role: change.fromRole });
        this.putMember(groupId, group, { ...to, role: GroupRole.owner });
        group.state = { ...group.state, owner: change.to };
        this.putState(groupId, group);
        break;
      }
      case 'dissolve':
        for (const userId of [...group.members.keys()]) this.removeMember(groupId, group, userId);
        break;
    }
  }

  private addMember(groupId: string, group: CachedGroup, member: GroupMemberState): void {
    if (!group.members.has(member.userId)) {
      group.ids = undefined;
      this.cachedMembers++;
      this.put(this.db.userGroups.put([member.userId, groupId], true));
    }
    this.putMember(groupId, group, member);
  }

  private removeMember(groupId: string, group: CachedGroup, userId: string): void {
    if (!group.members.delete(userId)) return;
    group.ids = undefined;
    this.cachedMembers--;
    this.put(this.db.members.remove([groupId, userId]));
    this.put(this.db.userGroups.remove([userId, groupId]));
  }

  private putMember(groupId: string, group: CachedGroup, member: GroupMemberState): void {
    group.members.set(member.userId, member);
    this.put(this.db.members.put([groupId, member.userId], member));
  }

  private putState(groupId: string, group: CachedGroup): void {
    this.put(this.db.groups.put(groupId, group.state));
  }

  private put(write: Promise<unknown>): void {
    this.writes++;
    this.track(write);
  }

  private snapshot(groupId: string, group: CachedGroup): GroupState {
    return { ...group.state, memberCount: group.members.size, lastSeq: this.writers.currentSeq(groupConversationId(groupId)) };
  }

  /** The group from memory, or read from disk into memory; marks it most recently used. */
  private load(groupId: string): CachedGroup | undefined {
    const cached = this.cache.get(groupId);
    if (cached) {
      this.cache.delete(groupId);
      this.cache.set(groupId, cached);
      return cached;
    }
    const state = this.db.groups.get(groupId);
    if (!state) return undefined;
    const members = new Map<string, GroupMemberState>();
    for (const { value } of this.db.members.getRange({ start: [groupId, ''], end: [groupId, END] })) members.set(value.userId, value);
    const group: CachedGroup = { state, members, ids: undefined };
    this.cache.set(groupId, group);
    this.cachedMembers += members.size;
    this.evict(groupId);
    return group;
  }

  private evict(keep: string): void {
    for (const [groupId, group] of this.cache) {
      if (this.cachedMembers <= this.maxCachedMembers) return;
      if (groupId === keep) continue;
      this.cache.delete(groupId);
      this.cachedMembers -= group.members.size;
    }
  }
}

function definedFields<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}
