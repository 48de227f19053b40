/**
 * The SDK's side of groups (SPEC §18): the group requests, and catching up on group timelines
 * from this device's cursors (the highest seq applied per group), which the app persists.
 */
import { MAX_GROUP_CURSORS, type BodyName, type BodyOf, type MessageRecord } from '../protocol/bodies.ts';
import { groupIdOf } from '../protocol/conversation-ids.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { ServerError } from './transport.ts';


/** Sends one request and resolves with the reply body of `reply`. */
export type Requester = <Q extends BodyName, R extends BodyName>(request: Q, body: BodyOf<Q>, reply: R) => Promise<BodyOf<R>>;

export const groupOfConversation = groupIdOf;

const SYNC_PAGES_MAX = 10_000;
const LIST_LIMIT = 1000;

export class GroupCursors {
  private readonly cursors: Map<string, number>;

  constructor(initial: Readonly<Record<string, number>> = {}) {
    this.cursors = new Map(Object.entries(initial));
  }

  get(groupId: string): number {
    return this.cursors.get(groupId) ?? 0;
  }

  advance(groupId: string, seq: number): void {
    if (seq > this.get(groupId)) this.cursors.set(groupId, seq);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.cursors);
  }
}

/**
 * Finds the groups whose latest entry is beyond this device's cursor (from the conversation list)
 * and pulls what it lacks with `groupSync`, page by page. `seed` is told each group's cursor first,
 * so pushes that arrive meanwhile wait behind the pulled entries; `apply` gets every entry in seq
 * order per group.
 */
export async function catchUpGroups(request: Requester, cursors: GroupCursors, seed: (conversationId: string, seq: number) => void, apply: (message: MessageRecord) => void): Promise<void> {
  let list: BodyOf<'conversationList'>;
  try {
    list = await request('conversations', { limit: LIST_LIMIT }, 'conversationList');
  } catch (error) {
    if (error instanceof ServerError && error.code === ErrorCode.unsupported) return;
    throw error;
  }
  const behind = new Map<string, number>();
  for (const row of list.items) {
    const groupId = groupOfConversation(row.conversationId);
    if (groupId === undefined) continue;
    const cursor = cursors.get(groupId);
    seed(row.conversationId, cursor);
    if ((row.lastMessage?.seq ?? 0) > cursor) behind.set(groupId, cursor);
  }
  const ids = [...behind.keys()];
  for (let i = 0; i < ids.length; i += MAX_GROUP_CURSORS) {
    const at = new Map(ids.slice(i, i + MAX_GROUP_CURSORS).map((groupId) => [groupId, behind.get(groupId) as number]));
    for (let pages = 0; pages < SYNC_PAGES_MAX; pages++) {
      const page = await request('groupSync', { cursors: [...at].map(([groupId, afterSeq]) => ({ groupId, afterSeq })) }, 'groupSyncPage');
      for (const message of page.messages) {
        at.set(message.to, message.seq);
        apply(message);
      }
      if (!page.hasMore || page.messages.length === 0) break;
    }
  }
}

/** The group requests, each answered with its reply body or rejected with a ServerError. */
export class GroupRequests {
  constructor(private readonly request: Requester) {}

  create(name: string, members: string[], options: { open?: boolean; historyForNewMembers?: boolean } = {}): Promise<BodyOf<'groupInfo'>> {
    return this.request('groupCreate', { name, members, ...options }, 'groupInfo');
  }
  get(groupId: string): Promise<BodyOf<'groupInfo'>> {
    return this.request('groupGet', { groupId }, 'groupInfo');
  }
  join(groupId: string): Promise<BodyOf<'groupInfo'>> {
    return this.request('groupJoin', { groupId }, 'groupInfo');
  }
  members(groupId: string, after?: string, limit?: number): Promise<BodyOf<'groupMemberPage'>> {
    return this.request('groupMembers', { groupId, after, limit }, 'groupMemberPage');
  }
  async invite(groupId: string, members: string[]): Promise<void> {
    await this.request('groupInvite', { groupId, members }, 'ok');
  }
  async leave(groupId: string): Promise<void> {
    await this.request('groupLeave', { groupId }, 'ok');
  }
  async remove(groupId: string, userId: string): Promise<void> {
    await this.request('groupRemove', { groupId, userId }, 'ok');
  }
  async setRole(groupId: string, userId: string, role: number): Promise<void> {
    await this.request('groupSetRole', { groupId, userId, role }, 'ok');
  }
  async mute(groupId: string, userId: string, mutedUntil: number): Promise<void> {
    await this.request('groupMute', { groupId, userId, mutedUntil }, 'ok');
  }
  async update(groupId: string, fields: Omit<BodyOf<'groupUpdate'>, 'groupId'>): Promise<void> {
    await this.request('groupUpdate', { groupId, ...fields }, 'ok');
  }
  /** For each seq, how many members other than its poster have read up to it. */
  async receipts(groupId: string, seqs: number[]): Promise<number[]> {
    return (await this.request('groupReceipts', { groupId, seqs }, 'groupReceiptCounts')).counts;
  }
  async dissolve(groupId: string): Promise<void> {
    await this.request('groupDissolve', { groupId }, 'ok');
  }
}
