import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EntryType, GroupEventKind, GroupRole, Platform, type BodyOf } from '../../protocol/bodies.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { pushBodyEncodes } from '../../server/push-payload.ts';
import type { EmbeddedGroups } from '../../storage/embedded/groups.ts';
import { errorCodeOf, replyOf } from '../support/group-calls.ts';
import { RawDevice } from '../support/raw-device.ts';
import { startTestServer, waitUntil, type TestServer } from '../support/server.ts';

type Push = BodyOf<'push'>;

describe('groups', () => {
  let server: TestServer;
  const devices: RawDevice[] = [];
  const pushes = new Map<RawDevice, Push[]>();

  async function device(userId: string, options: { register?: boolean; deviceId?: string; platform?: number } = {}): Promise<RawDevice> {
    const d = await RawDevice.open(server.port, userId, options);
    devices.push(d);
    const seen: Push[] = [];
    pushes.set(d, seen);
    d.onPush = (entry) => seen.push(entry);
    return d;
  }

  function groupPushes(d: RawDevice, groupId: string): Push[] {
    return (pushes.get(d) ?? []).filter((p) => p.conversationId === `g:${groupId}`);
  }

  async function create(owner: RawDevice, members: string[], options: { open?: boolean; historyForNewMembers?: boolean } = {}): Promise<BodyOf<'groupInfo'>> {
    return replyOf(await owner.call('groupCreate', { name: 'team', members, ...options }), 'groupInfo');
  }

  async function post(d: RawDevice, groupId: string, content: string, kind = 1): Promise<BodyOf<'sendAck'>> {
    return replyOf(await d.call('groupSend', { groupId, clientMsgId: `${content}-${Math.random()}`, kind, content }), 'sendAck');
  }

  async function syncAll(d: RawDevice, cursors: { groupId: string; afterSeq: number }[], limit?: number): Promise<{ messages: BodyOf<'groupSyncPage'>['messages']; pages: number }> {
    const at = new Map(cursors.map((c) => [c.groupId, c.afterSeq]));
    const messages: BodyOf<'groupSyncPage'>['messages'] = [];
    for (let pages = 1; pages <= 100; pages++) {
      const page = replyOf(await d.call('groupSync', { cursors: [...at].map(([groupId, afterSeq]) => ({ groupId, afterSeq })), ...(limit ? { limit } : {}) }), 'groupSyncPage');
      for (const m of page.messages) {
        messages.push(m);
        at.set(m.to, m.seq);
      }
      if (!page.hasMore) return { messages, pages };
    }
    throw new Error('groupSync did not finish in 100 pages');
  }

  afterEach(async () => {
    for (const d of devices.splice(0)) d.close();
    pushes.clear();
    await server?.stop();
  });

  it('stores a post once, encodes its push once, and delivers it in seq order to every online member but the sending device', async () => {
    server = await startTestServer({ gateway: { framesPerSecond: 100_000 } });
    const owner = await device('owner', { register: true });
    const members: RawDevice[] = [];
    for (let i = 0; i < 12; i++) members.push(await device(`m${i}`, { register: true }));
    const ownerDesk = await device('owner', { register: false, deviceId: 'owner-desk', platform: Platform.desktop });
    const group = await create(owner, members.map((_, i) => `m${i}`));
    const groups = server.stores.groups as EmbeddedGroups;
    const writesBefore = groups.writes;
    const encodesBefore = pushBodyEncodes();
    const acks = await Promise.all(Array.from({ length: 20 }, (_, i) => post(owner, group.groupId, `hello ${i}`)));
    assert.deepEqual(acks.map((a) => a.seq).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 2), 'seqs follow the creation event');
    await waitUntil(() => members.every((m) => groupPushes(m, group.groupId).filter((p) => p.message?.kind === 1).length === 20), 'every member got every post');
    for (const m of [...members, ownerDesk]) {
      const seqs = groupPushes(m, group.groupId).map((p) => p.seq);
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'pushes in seq order');
      assert.ok(groupPushes(m, group.groupId).every((p) => p.version === 0 && p.type === EntryType.message), 'read-diffused pushes carry version 0');
    }
    assert.equal(groupPushes(owner, group.groupId).length, 0, 'the sending device gets no push of its own post');
    assert.equal(groupPushes(ownerDesk, group.groupId).filter((p) => p.message?.kind === 1).length, 20, "the sender's other device gets every post");
    assert.equal(pushBodyEncodes() - encodesBefore, 20, 'one encode per post for 13 receiving devices');
    assert.equal((groups.writes - writesBefore) / 20, 3, 'three store writes per post (timeline row, dedup, sender read mark), whatever the member count');
  });

  it('refuses posts from non-members, muted members and media in a text-only group, with their codes', async () => {
    server = await startTestServer();
    const owner = await device('owner', { register: true });
    const member = await device('member', { register: true });
    const outsider = await device('outsider', { register: true });
    const { groupId } = await create(owner, ['member']);
    assert.equal(errorCodeOf(await outsider.call('groupSend', { groupId, clientMsgId: 'x', kind: 1, content: 'hi' })), ErrorCode.notGroupMember);
    assert.equal(errorCodeOf(await outsider.call('groupSend', { groupId: 'no-such-group', clientMsgId: 'x', kind: 1, content: 'hi' })), ErrorCode.notGroupMember);
    assert.equal(errorCodeOf(await member.call('groupSend', { groupId, clientMsgId: 'e', kind: GroupEventKind.created, content: '{}' })), ErrorCode.badBody);
    replyOf(await owner.call('groupMute', { groupId, userId: 'member', mutedUntil: Date.now() + 60_000 }), 'ok');
    assert.equal(errorCodeOf(await member.call('groupSend', { groupId, clientMsgId: 'm1', kind: 1, content: 'hi' })), ErrorCode.groupMuted);
    replyOf(await owner.call('groupMute', { groupId, userId: 'member', mutedUntil: 0 }), 'ok');
    await post(member, groupId, 'unmuted');
    replyOf(await owner.call('groupUpdate', { groupId, mutedAll: true }), 'ok');
    assert.equal(errorCodeOf(await member.call('groupSend', { groupId, clientMsgId: 'm2', kind: 1, content: 'hi' })), ErrorCode.groupMuted);
    await post(owner, groupId, 'owners may speak in a muted group');
    replyOf(await owner.call('groupUpdate', { groupId, mutedAll: false, noMedia: true }), 'ok');
    assert.equal(errorCodeOf(await member.call('groupSend', { groupId, clientMsgId: 'img', kind: 2, content: 'https://x/y.png' })), ErrorCode.groupNoMedia);
    await post(member, groupId, 'text is fine');
  });

  it('answers every action by every role as the rights table says', async () => {
    server = await startTestServer();
    type Action = 'invite' | 'remove' | 'promote' | 'transfer' | 'mute' | 'update' | 'dissolve' | 'leave';
    // SPEC §18.3, acting on a plain member (remove, promote, mute, transfer) of a closed group.
    const expected: Record<Action, Record<'owner' | 'admin' | 'member', number>> = {
      invite: { owner: 0, admin: 0, member: ErrorCode.groupRightMissing },
      remove: { owner: 0, admin: 0, member: ErrorCode.groupRightMissing },
      promote: { owner: 0, admin: ErrorCode.groupRightMissing, member: ErrorCode.groupRightMissing },
      transfer: { owner: 0, admin: ErrorCode.groupRightMissing, member: ErrorCode.groupRightMissing },
      mute: { owner: 0, admin: 0, member: ErrorCode.groupRightMissing },
      update: { owner: 0, admin: 0, member: ErrorCode.groupRightMissing },
      dissolve: { owner: 0, admin: ErrorCode.groupRightMissing, member: ErrorCode.groupRightMissing },
      leave: { owner: ErrorCode.ownerCannotLeave, admin: 0, member: 0 },
    };
    const users = ['o', 'a', 'm', 't', 'n'];
    const d = new Map<string, RawDevice>();
    for (const u of users) d.set(u, await device(u, { register: true }));
    const as = (u: string) => d.get(u) as RawDevice;
    for (const action of Object.keys(expected) as Action[]) {
      for (const role of ['owner', 'admin', 'member'] as const) {
        const { groupId } = await create(as('o'), ['a', 'm', 't']);
        replyOf(await as('o').call('groupSetRole', { groupId, userId: 'a', role: GroupRole.admin }), 'ok');
        const actor = as({ owner: 'o', admin: 'a', member: 'm' }[role]);
        const calls: Record<Action, () => ReturnType<RawDevice['call']>> = {
          invite: () => actor.call('groupInvite', { groupId, members: ['n'] }),
          remove: () => actor.call('groupRemove', { groupId, userId: 't' }),
          promote: () => actor.call('groupSetRole', { groupId, userId: 't', role: GroupRole.admin }),
          transfer: () => actor.call('groupSetRole', { groupId, userId: 't', role: GroupRole.owner }),
          mute: () => actor.call('groupMute', { groupId, userId: 't', mutedUntil: Date.now() + 1000 }),
          update: () => actor.call('groupUpdate', { groupId, notice: 'read the rules' }),
          dissolve: () => actor.call('groupDissolve', { groupId }),
          leave: () => actor.call('groupLeave', { groupId }),
        };
        assert.equal(errorCodeOf(await calls[action]()), expected[action][role], `${action} by ${role}`);
      }
    }
    // Outranking: an admin may not remove or mute another admin, nor the owner.
    const { groupId } = await create(as('o'), ['a', 't']);
    for (const u of ['a', 't']) replyOf(await as('o').call('groupSetRole', { groupId, userId: u, role: GroupRole.admin }), 'ok');
    assert.equal(errorCodeOf(await as('a').call('groupRemove', { groupId, userId: 't' })), ErrorCode.groupRightMissing);
    assert.equal(errorCodeOf(await as('a').call('groupMute', { groupId, userId: 'o', mutedUntil: 1 })), ErrorCode.groupRightMissing);
    // A transfer makes the target owner and the old owner an admin.
    replyOf(await as('o').call('groupSetRole', { groupId, userId: 't', role: GroupRole.owner }), 'ok');
    const info = replyOf(await as('o').call('groupGet', { groupId }), 'groupInfo');
    assert.equal(info.owner, 't');
    assert.equal(info.role, GroupRole.admin);
  });

  it('shows a new member the timeline from their join, or all of it when the group opens its history', async () => {
    server = await startTestServer();
    const owner = await device('owner', { register: true });
    const late = await device('late', { register: true });
    for (const historyForNewMembers of [false, true]) {
      const { groupId } = await create(owner, [], { historyForNewMembers });
      for (let i = 0; i < 5; i++) await post(owner, groupId, `before ${i}`);
      replyOf(await owner.call('groupInvite', { groupId, members: ['late'] }), 'ok');
      await post(owner, groupId, 'after');
      const info = replyOf(await late.call('groupGet', { groupId }), 'groupInfo');
      const { messages } = await syncAll(late, [{ groupId, afterSeq: 0 }]);
      const history = replyOf(await late.call('history', { conversationId: `g:${groupId}` }), 'historyPage');
      if (historyForNewMembers) {
        assert.equal(info.visibleFromSeq, 1);
        assert.deepEqual(messages.map((m) => m.seq), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert.equal(history.messages.length, 8);
      } else {
        assert.equal(info.visibleFromSeq, 7, 'the join event is seq 7');
        assert.deepEqual(messages.map((m) => [m.seq, m.kind]), [[7, GroupEventKind.membersAdded], [8, 1]]);
        assert.deepEqual(history.messages.map((m) => m.seq), [8, 7]);
        assert.equal(history.hasMore, false);
      }
    }
  });

  it('stops delivery to a member who leaves or is removed, and refuses them the timeline', async () => {
    server = await startTestServer();
    const owner = await device('owner', { register: true });
    const leaver = await device('leaver', { register: true });
    const kicked = await device('kicked', { register: true });
    const stays = await device('stays', { register: true });
    const { groupId } = await create(owner, ['leaver', 'kicked', 'stays']);
    await post(owner, groupId, 'one');
    replyOf(await leaver.call('groupLeave', { groupId }), 'ok');
    replyOf(await owner.call('groupRemove', { groupId, userId: 'kicked' }), 'ok');
    await post(owner, groupId, 'two');
    await waitUntil(() => groupPushes(stays, groupId).some((p) => p.message?.content === 'two'), 'the remaining member gets the post');
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const gone of [leaver, kicked]) {
      assert.ok(!groupPushes(gone, groupId).some((p) => p.message?.content === 'two'), 'no push after leaving');
      assert.equal(errorCodeOf(await gone.call('history', { conversationId: `g:${groupId}` })), ErrorCode.notGroupMember);
      assert.equal(errorCodeOf(await gone.call('groupMembers', { groupId })), ErrorCode.notGroupMember);
      assert.equal(errorCodeOf(await gone.call('markRead', { conversationId: `g:${groupId}`, seq: 1 })), ErrorCode.notGroupMember);
      assert.deepEqual((await syncAll(gone, [{ groupId, afterSeq: 0 }])).messages, []);
    }
    const removal = groupPushes(kicked, groupId).find((p) => p.message?.kind === GroupEventKind.memberRemoved);
    assert.deepEqual(JSON.parse(removal?.message?.content ?? '{}'), { user: 'kicked' }, 'the removed member is told, as the last thing they get');
    const page = replyOf(await owner.call('groupMembers', { groupId }), 'groupMemberPage');
    assert.deepEqual(page.members.map((m) => m.userId), ['owner', 'stays']);
  });

  it('keeps unread per group and in the total equal to last seq minus read seq under any interleaving of posts and reads (property)', async () => {
    server = await startTestServer({ gateway: { framesPerSecond: 100_000 } });
    const a = await device('a', { register: true });
    const b = await device('b', { register: true });
    const reader = await device('reader', { register: true });
    const op = fc.record({ group: fc.integer({ min: 0, max: 1 }), post: fc.boolean(), byA: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), async (ops) => {
        const groups = [await create(a, ['b', 'reader']), await create(a, ['b', 'reader'])];
        const lastAcked = new Map<string, number>();
        await Promise.all(
          ops.map(async ({ group, post: isPost, byA }, i) => {
            const { groupId } = groups[group] as BodyOf<'groupInfo'>;
            if (isPost) {
              const ack = await post(byA ? a : b, groupId, `p${i}`);
              lastAcked.set(groupId, Math.max(lastAcked.get(groupId) ?? 0, ack.seq));
            } else {
              assert.equal(errorCodeOf(await reader.call('markRead', { conversationId: `g:${groupId}`, seq: lastAcked.get(groupId) ?? 1 })), 0);
            }
          }),
        );
        const list = replyOf(await reader.call('conversations', {}), 'conversationList');
        let total = 0;
        for (const row of list.items) {
          const groupId = row.conversationId.slice(2);
          const info = replyOf(await reader.call('groupGet', { groupId }), 'groupInfo');
          assert.equal(row.unread, info.lastSeq - row.readSeq, 'unread = last seq - read seq');
          assert.equal(row.lastMessage?.seq, info.lastSeq);
          total += row.unread;
        }
        assert.equal(list.totalUnread, total, 'the total is the sum over groups');
      }),
      { numRuns: 8, seed: 7 },
    );
    // Reading everything clears a group, and a poster's own posts are never unread for them.
    const { groupId } = await create(a, ['b', 'reader']);
    await post(a, groupId, 'x');
    const last = replyOf(await reader.call('groupGet', { groupId }), 'groupInfo').lastSeq;
    replyOf(await reader.call('markRead', { conversationId: `g:${groupId}`, seq: last }), 'ok');
    const after = replyOf(await reader.call('conversations', {}), 'conversationList');
    assert.equal(after.items.find((i) => i.conversationId === `g:${groupId}`)?.unread, 0);
    await post(b, groupId, 'mine');
    const forB = replyOf(await b.call('conversations', {}), 'conversationList');
    assert.equal(forB.items.find((i) => i.conversationId === `g:${groupId}`)?.unread, 0);
  });

  it('counts read receipts per seq in a small group, and refuses them above the receipt size limit', async () => {
    server = await startTestServer({ groups: { maxMembers: 100, maxGroupsPerUser: 10, writeDiffusionMaxMembers: 0, receiptsMaxMembers: 3 } });
    const owner = await device('owner', { register: true });
    const readers = [await device('r1', { register: true }), await device('r2', { register: true })];
    await device('r3', { register: true });
    const { groupId } = await create(owner, ['r1', 'r2']);
    const [first, second] = [await post(owner, groupId, 'one'), await post(owner, groupId, 'two')];
    replyOf(await (readers[0] as RawDevice).call('markRead', { conversationId: `g:${groupId}`, seq: second.seq }), 'ok');
    replyOf(await (readers[1] as RawDevice).call('markRead', { conversationId: `g:${groupId}`, seq: first.seq }), 'ok');
    const receipts = replyOf(await owner.call('groupReceipts', { groupId, seqs: [first.seq, second.seq] }), 'groupReceiptCounts');
    assert.deepEqual(receipts.counts, [2, 1], 'both read the first post, one the second; the poster is not counted');
    replyOf(await owner.call('groupInvite', { groupId, members: ['r3'] }), 'ok');
    assert.equal(errorCodeOf(await owner.call('groupReceipts', { groupId, seqs: [1] })), ErrorCode.receiptsNotServed);
  });

  it('syncs a read mark to the member’s other devices', async () => {
    server = await startTestServer();
    const owner = await device('owner', { register: true });
    const phone = await device('reader', { register: true });
    const desk = await device('reader', { register: false, deviceId: 'reader-desk', platform: Platform.desktop });
    const { groupId } = await create(owner, ['reader']);
    const ack = await post(owner, groupId, 'read me');
    replyOf(await phone.call('markRead', { conversationId: `g:${groupId}`, seq: ack.seq }), 'ok');
    await waitUntil(() => groupPushes(desk, groupId).some((p) => p.type === EntryType.readMark && p.seq === ack.seq), 'the read mark on the desktop');
    const mark = groupPushes(desk, groupId).find((p) => p.type === EntryType.readMark);
    assert.ok(mark && mark.version > 0, 'the read mark is an entry of the reader’s own inbox');
    assert.ok(!groupPushes(phone, groupId).some((p) => p.type === EntryType.readMark), 'not pushed back to the reading device');
  });

  it('catches up a device that was offline, across groups, in pages, from its cursors', async () => {
    server = await startTestServer({ gateway: { framesPerSecond: 100_000 } });
    const owner = await device('owner', { register: true });
    const offline = await device('away', { register: true });
    offline.close();
    const ids: string[] = [];
    for (let g = 0; g < 3; g++) {
      const { groupId } = await create(owner, ['away']);
      ids.push(groupId);
      await Promise.all(Array.from({ length: 60 }, (_, i) => post(owner, groupId, `g${g}-${i}`)));
    }
    const back = await device('away', { register: false });
    const { messages, pages } = await syncAll(back, ids.map((groupId) => ({ groupId, afterSeq: 0 })), 50);
    for (const groupId of ids) {
      const seqs = messages.filter((m) => m.to === groupId).map((m) => m.seq);
      assert.deepEqual(seqs, Array.from({ length: 61 }, (_, i) => i + 1), `every entry of ${groupId} once, in order`);
    }
    assert.ok(pages >= 4, `183 entries in pages of 50 take at least 4 pages (took ${pages})`);
  });

  it('fills group sync and history pages to the page budget, like 1:1 pages', async () => {
    server = await startTestServer({ gateway: { framesPerSecond: 100_000, bodyBytesPerSecond: 64 << 20 } });
    const owner = await device('owner', { register: true });
    const reader = await device('reader', { register: true });
    const { groupId } = await create(owner, ['reader']);
    // Eight posts of ~180 KB: together far above the 1 MiB frame, two of them within the 512 KiB budget.
    for (let i = 0; i < 8; i++) replyOf(await owner.call('groupSend', { groupId, clientMsgId: `big${i}`, kind: 1, content: `${i}`.padEnd(60_000, '語') }), 'sendAck');
    const sync = replyOf(await reader.call('groupSync', { cursors: [{ groupId, afterSeq: 1 }], limit: 1000 }), 'groupSyncPage');
    assert.equal(sync.messages.length, 2);
    assert.equal(sync.hasMore, true);
    const history = replyOf(await reader.call('history', { conversationId: `g:${groupId}`, limit: 100 }), 'historyPage');
    assert.deepEqual(history.messages.map((m) => m.seq), [9, 8]);
    assert.equal(history.hasMore, true);
    const { messages } = await syncAll(reader, [{ groupId, afterSeq: 1 }]);
    assert.deepEqual(messages.map((m) => m.seq), [2, 3, 4, 5, 6, 7, 8, 9], 'every post, page by page');
  });

  it('pages members by user id and refuses to invite unknown users', async () => {
    server = await startTestServer();
    const owner = await device('owner', { register: true });
    const names = ['zed', 'amy', 'kim', 'bo'];
    for (const n of names) await device(n, { register: true });
    const { groupId } = await create(owner, names);
    const first = replyOf(await owner.call('groupMembers', { groupId, limit: 2 }), 'groupMemberPage');
    assert.deepEqual(first.members.map((m) => m.userId), ['amy', 'bo']);
    assert.equal(first.hasMore, true);
    const rest = replyOf(await owner.call('groupMembers', { groupId, after: 'bo', limit: 10 }), 'groupMemberPage');
    assert.deepEqual(rest.members.map((m) => m.userId), ['kim', 'owner', 'zed']);
    assert.equal(rest.hasMore, false);
    assert.equal(errorCodeOf(await owner.call('groupInvite', { groupId, members: ['ghost'] })), ErrorCode.notFound);
  });

  it('answers group requests with 1011 on a store that does not serve groups', async () => {
    server = await startTestServer({ decorateStores: ({ groups: _groups, ...rest }) => rest });
    const owner = await device('owner', { register: true });
    assert.equal(errorCodeOf(await owner.call('groupCreate', { name: 'x', members: [] })), ErrorCode.unsupported);
    assert.equal(errorCodeOf(await owner.call('groupSync', { cursors: [] })), ErrorCode.unsupported);
    replyOf(await owner.call('conversations', {}), 'conversationList');
  });
});
