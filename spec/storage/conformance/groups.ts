/** GroupStore: state, members, one timeline per group, dedup of posts, read marks. */
import assert from 'node:assert/strict';
import { GroupEventKind, GroupRole } from '../../../protocol/bodies.ts';
import type { GroupEntryInput, GroupStore, Stores } from '../../../storage/ports.ts';
import type { Harness } from '../conformance.ts';
import { range, T0 } from './fixtures.ts';

let groupCounter = 0;

function groupsOf(stores: Stores): GroupStore {
  assert.ok(stores.groups, 'the store serves groups');
  return stores.groups;
}

function event(groupId: string, kind: number, from = 'ann'): GroupEntryInput {
  return { messageId: `e-${groupId}-${kind}-${Math.random()}`, from, to: groupId, kind, content: '{}', sentAt: T0, clientMsgId: `event:${kind}` };
}

function post(groupId: string, from: string, clientMsgId: string): GroupEntryInput {
  return { messageId: `m-${clientMsgId}`, from, to: groupId, kind: 1, content: `post ${clientMsgId} ✓ ünïcode`, sentAt: T0 + 5, clientMsgId };
}

const member = (userId: string, role: number = GroupRole.member) => ({ userId, role, joinedAt: T0, mutedUntil: 0 });

/** Creates a group owned by ann with the given members; returns its id. */
async function createGroup(groups: GroupStore, members: string[], fields: { historyForNewMembers?: boolean } = {}): Promise<string> {
  const groupId = `grp${++groupCounter}-${Date.now().toString(36)}`;
  const group = { groupId, name: 'crew', notice: '', owner: 'ann', open: false, mutedAll: false, noMedia: false, historyForNewMembers: fields.historyForNewMembers ?? false, createdAt: T0, writeDiffused: false };
  await groups.change(groupId, { kind: 'create', group, members: [member('ann', GroupRole.owner), ...members.map((m) => member(m))] }, event(groupId, GroupEventKind.created));
  return groupId;
}

export function describeGroups(harness: Harness): void {
  describe('groups', () => {
    it('creates a group with its settings, its owner and members, and the creation event as seq 1', async () => {
      const groups = groupsOf(await harness.open());
      const groupId = await createGroup(groups, ['ben', 'cat'], { historyForNewMembers: true });
      const state = await groups.get(groupId);
      assert.ok(state);
      assert.deepEqual(
        { name: state.name, owner: state.owner, historyForNewMembers: state.historyForNewMembers, createdAt: state.createdAt, memberCount: state.memberCount, lastSeq: state.lastSeq },
        { name: 'crew', owner: 'ann', historyForNewMembers: true, createdAt: T0, memberCount: 3, lastSeq: 1 },
      );
      assert.equal((await groups.member(groupId, 'ann'))?.role, GroupRole.owner);
      assert.deepEqual(await groups.member(groupId, 'ben'), { userId: 'ben', role: GroupRole.member, joinedAt: T0, mutedUntil: 0, joinSeq: 1, readSeq: 1 });
      assert.deepEqual([...(await groups.memberIds(groupId))].sort(), ['ann', 'ben', 'cat']);
      assert.ok((await groups.groupsOf('cat')).includes(groupId));
      const [created] = await groups.timeline(groupId, 0, 10);
      assert.equal(created?.seq, 1);
      assert.equal(created?.kind, GroupEventKind.created);
      assert.equal(created?.conversationId, `g:${groupId}`);
      assert.equal(await groups.get('no-such-group'), undefined);
    });

    it('numbers posts after the events, stores a resend once, and moves the poster’s read mark', async () => {
      const groups = groupsOf(await harness.open());
      const groupId = await createGroup(groups, ['ben']);
      const first = await groups.post(groupId, post(groupId, 'ben', 'c1'));
      const again = await groups.post(groupId, post(groupId, 'ben', 'c1'));
      const other = await groups.post(groupId, post(groupId, 'ann', 'c1'));
      assert.equal(first.fresh, true);
      assert.equal(first.message.seq, 2);
      assert.equal(again.fresh, false);
      assert.deepEqual(again.message, first.message, 'a resend answers with the stored message');
      assert.equal(other.fresh, true, 'client ids are per sender');
      assert.equal(other.message.seq, 3);
      assert.equal((await groups.member(groupId, 'ben'))?.readSeq, 2);
      assert.equal((await groups.get(groupId))?.lastSeq, 3);
      assert.deepEqual((await groups.timeline(groupId, 1, 10)).map((m) => [m.seq, m.from, m.content]), [
        [2, 'ben', 'post c1 ✓ ünïcode'],
        [3, 'ann', 'post c1 ✓ ünïcode'],
      ]);
    });

    it('gives concurrent posts distinct seqs in call order, and reads the timeline ascending from a cursor', async () => {
      const groups = groupsOf(await harness.open());
      const groupId = await createGroup(groups, ['ben']);
      const posted = await Promise.all(range(40).map((i) => groups.post(groupId, post(groupId, i % 2 ? 'ben' : 'ann', `p${i}`))));
      const seqs = posted.map((p) => p.message.seq);
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'seqs follow call order');
      assert.equal(new Set(seqs).size, 40);
      const page = await groups.timeline(groupId, seqs[9] as number, 5);
      assert.deepEqual(page.map((m) => m.seq), seqs.slice(10, 15));
      assert.deepEqual(await groups.timeline(groupId, seqs[39] as number, 5), []);
    });

    it('adds members at the seq of their event, and removes them from the group and from their list of groups', async () => {
      const groups = groupsOf(await harness.open());
      const groupId = await createGroup(groups, ['ben']);
      await groups.post(groupId, post(groupId, 'ann', 'x'));
      const added = await groups.change(groupId, { kind: 'addMembers', members: [member('dan'), member('eve')] }, event(groupId, GroupEventKind.membersAdded));
      assert.equal(added.seq, 3);
      assert.deepEqual(await groups.member(groupId, 'dan'), { userId: 'dan', role: GroupRole.member, joinedAt: T0, mutedUntil: 0, joinSeq: 3, readSeq: 2 });
      assert.equal((await groups.get(groupId))?.memberCount, 4);
      await groups.change(groupId, { kind: 'removeMember', userId: 'ben' }, event(groupId, GroupEventKind.memberRemoved));
      assert.equal(await groups.member(groupId, 'ben'), undefined);
      assert.ok(!(await groups.groupsOf('ben')).includes(groupId));
      assert.ok(!(await groups.memberIds(groupId)).includes('ben'));
      assert.equal((await groups.get(groupId))?.lastSeq, 4);
    });

    it('changes roles, mutes, settings and the owner, and dissolves by removing everyone', async () => {
      const groups = groupsOf(await harness.open());
      const groupId = await createGroup(groups, ['ben', 'cat']);
      await groups.change(groupId, { kind: 'updateMember', userId: 'ben', role: GroupRole.admin }, event(groupId, GroupEventKind.roleChanged));
      await groups.change(groupId, { kind: 'updateMember', userId: 'cat', mutedUntil: T0 + 60_000 }, event(groupId, GroupEventKind.muteChanged));
      await groups.change(groupId, { kind: 'updateGroup', fields: { notice: 'be kind', mutedAll: true } }, event(groupId, GroupEventKind.groupUpdated));
      assert.equal((await groups.member(groupId, 'ben'))?.role, GroupRole.admin);
      assert.equal((await groups.member(groupId, 'cat'))?.mutedUntil, T0 + 60_000);
      assert.equal((await groups.member(groupId, 'cat'))?.role, GroupRole.member, 'a mute leaves the role alone');
      const state = await groups.get(groupId);
      assert.deepEqual([state?.notice, state?.mutedAll, state?.name], ['be kind', true, 'crew']);
      await groups.change(groupId, { kind: 'transfer', from: 'ann', to: 'ben', fromRole: GroupRole.admin }, event(groupId, GroupEventKind.roleChanged));
      assert.equal((await groups.get(groupId))?.owner, 'ben');
      assert.equal((await groups.member(groupId, 'ben'))?.role, GroupRole.owner);
      assert.equal((await groups.member(groupId, 'ann'))?.role, GroupRole.admin);
      await groups.change(groupId, { kind: 'dissolve' }, event(groupId, GroupEventKind.dissolved, 'ben'));
      assert.equal((await groups.get(groupId))?.memberCount, 0);
      assert.deepEqual(await groups.memberIds(groupId), []);
      assert.ok(!(await groups.groupsOf('cat')).includes(groupId));
    });

    it('moves a read mark only forward, also under concurrent marks', async () => {
      const groups = groupsOf(await harness.open());
      const groupId = await createGroup(groups, ['ben']);
      for (const i of range(10)) await groups.post(groupId, post(groupId, 'ann', `r${i}`));
      assert.equal(await groups.markRead(groupId, 'ben', 5), true);
      assert.equal(await groups.markRead(groupId, 'ben', 3), false);
      assert.equal(await groups.markRead(groupId, 'ben', 5), false);
      await Promise.all([9, 6, 11, 7, 8].map((seq) => groups.markRead(groupId, 'ben', seq)));
      assert.equal((await groups.member(groupId, 'ben'))?.readSeq, 11);
      assert.equal(await groups.markRead(groupId, 'nobody', 4), false, 'a non-member has no read mark');
      const readSeqs = await groups.readSeqs(groupId);
      assert.deepEqual([...readSeqs].sort(), [['ann', 11], ['ben', 11]], 'every member’s read seq (ann posted up to 11)');
    });

    it('pages members by user id', async () => {
      const groups = groupsOf(await harness.open());
      const groupId = await createGroup(groups, ['zed', 'bob', 'kim', 'amy']);
      const first = await groups.members(groupId, undefined, 2);
      assert.deepEqual(first.members.map((m) => m.userId), ['amy', 'ann']);
      assert.equal(first.hasMore, true);
      const rest = await groups.members(groupId, 'ann', 10);
      assert.deepEqual(rest.members.map((m) => m.userId), ['bob', 'kim', 'zed']);
      assert.equal(rest.hasMore, false);
    });
  });
}
