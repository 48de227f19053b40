/** Conversation lists with per-conversation and total unread counts. */
import assert from 'node:assert/strict';
import type { ConversationStore } from '../../../storage/ports.ts';
import type { Harness } from '../conformance.ts';
import { T0, message, range } from './fixtures.ts';

const AB = 'p:ann:ben';
const AC = 'p:ann:cat';

/** Ben receives `count` messages from Ann, seq 1 … count. */
async function receive(conversations: ConversationStore, count: number, conversationId = AB): Promise<void> {
  for (const seq of range(count)) await conversations.recordMessage('ben', 'ann', message(conversationId, seq + 1), true);
}

async function assertTotalIsSum(conversations: ConversationStore, userId: string): Promise<number> {
  const { items, totalUnread } = await conversations.list(userId, 1000);
  assert.equal(totalUnread, items.reduce((sum, item) => sum + item.unread, 0), `total of ${userId}`);
  return totalUnread;
}

export function describeConversations(h: Harness): void {
  describe('conversations', () => {
    it('counts an incoming message as unread for the receiver and not for the sender', async () => {
      const { conversations } = await h.open();
      const m = message(AB, 1);
      await conversations.recordMessage('ben', 'ann', m, true);
      await conversations.recordMessage('ann', 'ben', m, false);
      assert.deepEqual(await conversations.get('ben', AB), { conversationId: AB, peer: 'ann', unread: 1, readSeq: 0, lastSeq: 1, updatedAt: m.sentAt, lastMessage: m });
      assert.deepEqual(await conversations.get('ann', AB), { conversationId: AB, peer: 'ben', unread: 0, readSeq: 0, lastSeq: 1, updatedAt: m.sentAt, lastMessage: m });
      assert.equal((await conversations.list('ben', 10)).totalUnread, 1);
      assert.equal((await conversations.list('ann', 10)).totalUnread, 0);
      assert.equal(await conversations.get('cat', AB), undefined);
    });

    it('keeps the newest message as the last one when an older one is recorded late, and still counts it', async () => {
      const { conversations } = await h.open();
      await conversations.recordMessage('ben', 'ann', message(AB, 2), true);
      await conversations.recordMessage('ben', 'ann', message(AB, 1), true);
      const state = await conversations.get('ben', AB);
      assert.equal(state?.lastSeq, 2);
      assert.deepEqual(state?.lastMessage, message(AB, 2));
      assert.equal(state?.updatedAt, message(AB, 2).sentAt);
      assert.equal(state?.unread, 2);
    });

    it('lists the most recently updated conversations first, at most limit, with the total of all', async () => {
      const { conversations } = await h.open();
      await conversations.recordMessage('ben', 'ann', message(AB, 1, { sentAt: T0 + 10 }), true);
      await conversations.recordMessage('ben', 'cat', message('p:ben:cat', 1, { from: 'cat', sentAt: T0 + 30 }), true);
      await conversations.recordMessage('ben', 'dan', message('p:ben:dan', 1, { from: 'dan', sentAt: T0 + 20 }), true);
      const all = await conversations.list('ben', 10);
      assert.deepEqual(all.items.map((i) => i.conversationId), ['p:ben:cat', 'p:ben:dan', AB]);
      const top = await conversations.list('ben', 2);
      assert.deepEqual(top.items.map((i) => i.conversationId), ['p:ben:cat', 'p:ben:dan']);
      assert.equal(top.totalUnread, 3);
      await conversations.recordMessage('ben', 'ann', message(AB, 2, { sentAt: T0 + 40 }), true);
      assert.deepEqual((await conversations.list('ben', 10)).items.map((i) => i.conversationId), [AB, 'p:ben:cat', 'p:ben:dan']);
      assert.deepEqual(await conversations.list('nobody', 10), { items: [], totalUnread: 0 });
    });

    it('moves the read mark forward and takes the cleared messages off both counts', async () => {
      const { conversations } = await h.open();
      await receive(conversations, 5);
      await receive(conversations, 2, AC);
      assert.equal(await conversations.markRead('ben', AB, 3, 3), true);
      const state = await conversations.get('ben', AB);
      assert.equal(state?.readSeq, 3);
      assert.equal(state?.unread, 2);
      assert.equal(await assertTotalIsSum(conversations, 'ben'), 4);
    });

    it('never moves the read mark backwards, and answers false when it would not move', async () => {
      const { conversations } = await h.open();
      await receive(conversations, 5);
      assert.equal(await conversations.markRead('ben', AB, 4, 4), true);
      assert.equal(await conversations.markRead('ben', AB, 4, 1), false);
      assert.equal(await conversations.markRead('ben', AB, 2, 1), false);
      assert.equal(await conversations.markRead('ben', 'p:ben:zed', 1, 1), false, 'unknown conversation');
      const state = await conversations.get('ben', AB);
      assert.equal(state?.readSeq, 4);
      assert.equal(state?.unread, 1);
      assert.equal(await assertTotalIsSum(conversations, 'ben'), 1);
    });

    it('clears no more than the unread count', async () => {
      const { conversations } = await h.open();
      await receive(conversations, 2);
      assert.equal(await conversations.markRead('ben', AB, 2, 10), true);
      assert.equal((await conversations.get('ben', AB))?.unread, 0);
      assert.equal(await assertTotalIsSum(conversations, 'ben'), 0);
    });

    it('replaces the last message when it is the one updated, and takes unreadDelta off', async () => {
      const { conversations } = await h.open();
      await receive(conversations, 3);
      const tombstone = message(AB, 3, { content: '', recalled: true });
      await conversations.updateMessage('ben', tombstone, 1);
      const state = await conversations.get('ben', AB);
      assert.deepEqual(state?.lastMessage, tombstone);
      assert.equal(state?.unread, 2);
      assert.equal(state?.lastSeq, 3);
      assert.equal(await assertTotalIsSum(conversations, 'ben'), 2);
    });

    it('keeps the last message when an older one is updated, and ignores unknown conversations', async () => {
      const { conversations } = await h.open();
      await receive(conversations, 3);
      await conversations.updateMessage('ben', message(AB, 1, { content: '', recalled: true }), 1);
      await conversations.updateMessage('ben', message(AC, 1, { content: '', recalled: true }), 1);
      const state = await conversations.get('ben', AB);
      assert.deepEqual(state?.lastMessage, message(AB, 3));
      assert.equal(state?.unread, 2);
      assert.equal(await conversations.get('ben', AC), undefined);
      assert.equal(await assertTotalIsSum(conversations, 'ben'), 2);
    });

    it('applies a read mark only to the rev it was counted from, and moves the rev with each change of the read state', async () => {
      const { conversations } = await h.open();
      await receive(conversations, 6);
      const before = (await conversations.get('ben', AB))?.rev ?? 0;
      assert.equal(await conversations.markRead('ben', AB, 2, 2, before), true);
      assert.equal(await conversations.markRead('ben', AB, 4, 4, before), false, 'counted from the state before the first mark');
      const after = (await conversations.get('ben', AB))?.rev ?? 0;
      assert.notEqual(after, before);
      assert.equal(await conversations.markRead('ben', AB, 4, 2, after), true);
      await conversations.updateMessage('ben', message(AB, 6, { content: '', recalled: true }), 1);
      assert.equal(await conversations.markRead('ben', AB, 5, 1, after), false, 'a recall that took a message off the count moves the rev');
      const state = await conversations.get('ben', AB);
      assert.deepEqual([state?.readSeq, state?.unread], [4, 1]);
      assert.equal(await assertTotalIsSum(conversations, 'ben'), 1);
    });

    it('takes a recalled message off the count only while it is after the read mark', async () => {
      const { conversations } = await h.open();
      await receive(conversations, 3);
      assert.equal(await conversations.markRead('ben', AB, 2, 2), true);
      await conversations.updateMessage('ben', message(AB, 1, { content: '', recalled: true }), 1);
      assert.equal((await conversations.get('ben', AB))?.unread, 1, 'seq 1 was read already');
      await conversations.updateMessage('ben', message(AB, 3, { content: '', recalled: true }), 1);
      assert.equal((await conversations.get('ben', AB))?.unread, 0);
      assert.equal(await assertTotalIsSum(conversations, 'ben'), 0);
    });

    it('gives the recall claim of a message to exactly one of concurrent callers, and never again', async () => {
      const { conversations } = await h.open();
      const claims = await Promise.all(range(8).map(() => conversations.claimRecall(AB, 7)));
      assert.equal(claims.filter(Boolean).length, 1);
      assert.equal(await conversations.claimRecall(AB, 7), false);
      assert.equal(await conversations.claimRecall(AB, 8), true, 'another message');
      assert.equal(await conversations.claimRecall(AC, 7), true, 'another conversation');
      await conversations.releaseRecall(AB, 7);
      assert.equal(await conversations.claimRecall(AB, 7), true, 'a released claim can be taken again');
    });

    it('keeps the total equal to the sum of the conversations under concurrent updates', async () => {
      const { conversations } = await h.open();
      const peers = ['ann', 'cat', 'dan', 'eve', 'fay'];
      const id = (peer: string) => (peer < 'ben' ? `p:${peer}:ben` : `p:ben:${peer}`);
      const writes: Promise<unknown>[] = [];
      for (const seq of range(40)) {
        for (const peer of peers) {
          writes.push(conversations.recordMessage('ben', peer, message(id(peer), seq + 1, { from: peer, to: 'ben' }), true));
          if (seq % 7 === 6) writes.push(conversations.markRead('ben', id(peer), seq, 3));
          if (seq % 11 === 10) writes.push(conversations.updateMessage('ben', message(id(peer), seq, { recalled: true }), 1));
        }
      }
      await Promise.all(writes);
      const total = await assertTotalIsSum(conversations, 'ben');
      assert.ok(total > 0 && total <= 200, `total ${total}`);
      for (const item of (await conversations.list('ben', 10)).items) assert.ok(item.unread >= 0);
    });
  });
}
