/**
 * Groups composed of the per-concern ports, for stores without a native implementation (Redis,
 * Redis + Cassandra): settings and members in a group directory, the timeline in the history
 * store under `g:<groupId>`, seqs from the sequence store, post dedup in the dedup store.
 *
 * Entries of one group are written one after another in this process, so their seqs follow call
 * order. A post is claimed in the dedup store before its row is written and marked complete
 * after, so a resend after a crash in between completes it with the same seq instead of storing
 * it twice (as composed-commit.ts does for 1:1). Member lists are cached per group and reloaded
 * when the directory's membership version moves, which any node's change does.
 */
import { EntryType, GroupRole, type MessageRecord } from '../protocol/bodies.ts';
import { groupConversationId } from '../protocol/conversation-ids.ts';
import { claimSend } from './dedup-claim.ts';
import { KeyedSerial } from './keyed-serial.ts';
import type { GroupChange, GroupEntryInput, GroupMemberPage, GroupMemberState, GroupPost, GroupState, GroupStore, InboxPosition, Stores } from './ports.ts';

type StoredGroup = Omit<GroupState, 'memberCount' | 'lastSeq'>;
type StoredMember = Omit<GroupMemberState, 'readSeq'>;

export interface GroupDirectory {
  version(groupId: string): Promise<string>;
  load(groupId: string): Promise<{ readonly state: StoredGroup; readonly version: string; readonly members: StoredMember[] } | undefined>;
  saveState(groupId: string, state: StoredGroup): Promise<void>;
  saveMembers(groupId: string, members: readonly StoredMember[], readSeqs?: ReadonlyMap<string, number>): Promise<void>;
  removeMembers(groupId: string, userIds: readonly string[]): Promise<void>;
  groupsOf(userId: string): Promise<string[]>;
  readSeq(groupId: string, userId: string): Promise<number>;
  raiseReadSeq(groupId: string, userId: string, seq: number): Promise<boolean>;
  readSeqs(groupId: string): Promise<ReadonlyMap<string, number>>;
  lastSeq(groupId: string): Promise<number>;
  raiseLastSeq(groupId: string, seq: number): Promise<void>;
}

type Parts = Pick<Stores, 'sequences' | 'history' | 'dedup' | 'inbox' | 'durable'>;

interface Cached {
  readonly version: string;
  readonly state: StoredGroup;
  readonly members: Map<string, StoredMember>;
  ids: string[] | undefined;
}

/** Groups whose member lists stay cached; beyond it the least recently used are dropped. */
const MAX_CACHED_GROUPS = 10_000;
/** A post completed: its dedup record carries this version (inbox versions start at 1). */
const COMPLETE = 0;

export class ComposedGroupStore implements GroupStore {
  private readonly cache = new Map<string, Cached>();
  /** Entries of one group are written one after another, so their seqs follow call order. */
  private readonly serial = new KeyedSerial();

  constructor(
    private readonly directory: GroupDirectory,
    private readonly parts: Parts,
  ) {}

  async get(groupId: string): Promise<GroupState | undefined> {
    const group = await this.load(groupId);
    if (!group) return undefined;
    return { ...group.state, memberCount: group.members.size, lastSeq: await this.lastSeq(groupId) };
  }

  async member(groupId: string, userId: string): Promise<GroupMemberState | undefined> {
    const member = (await this.load(groupId))?.members.get(userId);
    return member && { ...member, readSeq: await this.directory.readSeq(groupId, userId) };
  }

  async memberIds(groupId: string): Promise<readonly string[]> {
    const group = await this.load(groupId);
    return group ? sortedIds(group) : [];
  }

  async members(groupId: string, after: string | undefined, limit: number): Promise<GroupMemberPage> {
    const group = await this.load(groupId);
    if (!group) return { members: [], hasMore: false };
    const ids = sortedIds(group);
    const start = after === undefined ? 0 : ids.findIndex((id) => id > after);
    const from = start < 0 ? ids.length : start;
    const page = ids.slice(from, from + limit);
    const readSeqs = await Promise.all(page.map((userId) => this.directory.readSeq(groupId, userId)));
    return { members: page.map((userId, i) => ({ ...(group.members.get(userId) as StoredMember), readSeq: readSeqs[i] as number })), hasMore: from + limit < ids.length };
  }

  groupsOf(userId: string): Promise<readonly string[]> {
    return this.directory.groupsOf(userId);
  }

  change(groupId: string, change: GroupChange, event: GroupEntryInput): Promise<MessageRecord> {
    return this.serial.run(groupId, async () => {
      const conversationId = groupConversationId(groupId);
      const seq = await this.parts.sequences.next(conversationId);
      const message: MessageRecord = { ...event, conversationId, seq };
      await this.parts.history.put(message);
      await this.apply(groupId, change, seq);
      await this.directory.raiseLastSeq(groupId, seq);
      await this.parts.durable();
      return message;
    });
  }

  post(groupId: string, input: GroupEntryInput): Promise<GroupPost> {
    return this.serial.run(groupId, async () => {
      const { dedup, sequences, history, inbox } = this.parts;
      const conversationId = groupConversationId(groupId);
      const dedupKey = `${conversationId}\u0000${input.clientMsgId}`;
      const claimed = await claimSend(dedup, input.from, dedupKey, input.sentAt, async () => ({ messageId: input.messageId, conversationId, seq: await sequences.next(conversationId), sentAt: input.sentAt }));
      if (claimed.kind === 'done') {
        const stored = await history.get(conversationId, claimed.record.seq);
        if (stored) return { fresh: false, message: stored, versions: new Map() };
      }
      const { record } = claimed;
      const message: MessageRecord = { ...input, messageId: record.messageId, sentAt: record.sentAt, conversationId, seq: record.seq };
      const seq = record.seq;
      await history.put(message);
      const versions = new Map<string, InboxPosition>();
      const group = await this.load(groupId);
      if (group?.state.writeDiffused) {
        const entry = { type: EntryType.message, conversationId, seq, message };
        await Promise.all([...group.members.keys()].map(async (userId) => versions.set(userId, await inbox.append(userId, entry))));
      }
      await this.directory.raiseLastSeq(groupId, seq);
      if (group?.members.has(input.from)) await this.directory.raiseReadSeq(groupId, input.from, seq);
      await dedup.put(input.from, dedupKey, { ...record, version: COMPLETE });
      await this.parts.durable();
      return { fresh: true, message, versions };
    });
  }

  async readSeqs(groupId: string): Promise<ReadonlyMap<string, number>> {
    const group = await this.load(groupId);
    if (!group) return new Map();
    const stored = await this.directory.readSeqs(groupId);
    return new Map([...group.members.keys()].map((userId) => [userId, stored.get(userId) ?? 0]));
  }

  async markRead(groupId: string, userId: string, seq: number): Promise<boolean> {
    if (!(await this.load(groupId))?.members.has(userId)) return false;
    return this.directory.raiseReadSeq(groupId, userId, seq);
  }

  /**
   * Entries after `afterSeq`, ascending. The history store pages newest first and production seqs
   * may skip (a block lost with Redis), so this walks windows forward up to the last seq.
   */
  async timeline(groupId: string, afterSeq: number, limit: number): Promise<MessageRecord[]> {
    const conversationId = groupConversationId(groupId);
    const last = await this.lastSeq(groupId);
    const found: MessageRecord[] = [];
    for (let from = afterSeq; from < last && found.length < limit; ) {
      const window = limit - found.length;
      const page = await this.parts.history.page(conversationId, from + window + 1, window);
      found.push(...page.messages.filter((m) => m.seq > from).reverse());
      from += window;
    }
    return found;
  }

  /** The last seq from the hot copy, or from the newest timeline row when that was lost. */
  private async lastSeq(groupId: string): Promise<number> {
    const hot = await this.directory.lastSeq(groupId);
    if (hot > 0) return hot;
    const [newest] = (await this.parts.history.page(groupConversationId(groupId), undefined, 1)).messages;
    if (newest) await this.directory.raiseLastSeq(groupId, newest.seq);
    return newest?.seq ?? 0;
  }

  private async apply(groupId: string, change: GroupChange, seq: number): Promise<void> {
    const { directory } = this;
    switch (change.kind) {
      case 'create':
        await directory.saveState(groupId, change.group);
        await directory.saveMembers(groupId, change.members.map((m) => ({ ...m, joinSeq: seq })), new Map(change.members.map((m) => [m.userId, seq])));
        break;
      case 'addMembers':
        await directory.saveMembers(groupId, change.members.map((m) => ({ ...m, joinSeq: seq })), new Map(change.members.map((m) => [m.userId, seq - 1])));
        break;
      case 'removeMember':
        await directory.removeMembers(groupId, [change.userId]);
        break;
      case 'updateMember': {
        const member = (await this.load(groupId))?.members.get(change.userId);
        if (member) await directory.saveMembers(groupId, [{ ...member, ...(change.role === undefined ? {} : { role: change.role }), ...(change.mutedUntil === undefined ? {} : { mutedUntil: change.mutedUntil }) }]);
        break;
      }
      case 'updateGroup': {
        const group = await this.load(groupId);
        const fields = Object.fromEntries(Object.entries(change.fields).filter(([, value]) => value !== undefined));
        if (group) await directory.saveState(groupId, { ...group.state, ...fields });
        break;
      }
      case 'transfer': {
        const group = await this.load(groupId);
        const from = group?.members.get(change.from);
        const to = group?.members.get(change.to);
        if (!group || !from || !to) break;
        await directory.saveMembers(groupId, [{ ...from, role: change.fromRole }, { ...to, role: GroupRole.owner }]);
        await directory.saveState(groupId, { ...group.state, owner: change.to });
        break;
      }
      case 'dissolve': {
        const group = await this.load(groupId);
        if (group) await directory.removeMembers(groupId, [...group.members.keys()]);
        break;
      }
    }
  }

  /** The group with its members, from the cache while the membership version is unchanged. */
  private async load(groupId: string): Promise<Cached | undefined> {
    const cached = this.cache.get(groupId);
    if (cached && cached.version === (await this.directory.version(groupId))) {
      this.cache.delete(groupId);
      this.cache.set(groupId, cached);
      return cached;
    }
    const loaded = await this.directory.load(groupId);
    if (!loaded) return undefined;
    const fresh: Cached = { version: loaded.version, state: loaded.state, members: new Map(loaded.members.map((m) => [m.userId, m])), ids: undefined };
    this.cache.delete(groupId);
    this.cache.set(groupId, fresh);
    if (this.cache.size > MAX_CACHED_GROUPS) this.cache.delete(this.cache.keys().next().value as string);
    return fresh;
  }

}

function sortedIds(group: Cached): string[] {
  group.ids ??= [...group.members.keys()].sort();
  return group.ids;
}
