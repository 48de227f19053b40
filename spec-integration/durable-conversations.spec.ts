import assert from 'node:assert/strict';
import { Logic } from '../server/logic/logic.ts';
import { directConversationId } from '../server/logic/ids.ts';
import type { SessionInfo } from '../server/seam.ts';
import type { ConversationState, Stores } from '../storage/ports.ts';
import { openCassandraStore } from '../storage/cassandra/cassandra-store.ts';
import { openProductionStore } from '../storage/production.ts';
import { ManualClock } from '../spec/support/server.ts';
import { cassandraAt, deleteKeys, redisAt, uniqueName, useServices } from './support/services.ts';

const USERS = ['ann', 'ben', 'cat'] as const;
type User = (typeof USERS)[number];

interface Node {
  readonly stores: Stores;
  readonly logic: Logic;
}

/** What a list shows of a conversation, without the rev (a rebuilt row starts a new one). */
function shown(state: ConversationState): Omit<ConversationState, 'rev'> {
  const { rev: _rev, ...rest } = state;
  return rest;
}

/** The peer's messages after the read mark that are not recalled, counted from history. */
async function recount(stores: Stores, userId: string, state: ConversationState): Promise<number> {
  const page = await stores.history.page(state.conversationId, undefined, 1000);
  return page.messages.filter((m) => m.from === state.peer && m.to === userId && m.seq > state.readSeq && !m.recalled).length;
}

describe('1:1 conversations on the production store, durable beyond Redis', function () {
  this.timeout(120_000);
  const keyspace = uniqueName('tern_test_');
  const services = useServices(keyspace);
  let keyPrefix = '';
  let tenant = '';
  const clock = new ManualClock();
  const opened: Stores[] = [];

  /** A node: a store of its own on the shared Redis prefix and Cassandra tenant, and a logic on it. */
  async function node(): Promise<Node> {
    const stores = await openProductionStore({
      redis: { ...redisAt, keyPrefix, now: () => clock.now() },
      cassandra: { contactPoints: [`${cassandraAt.host}:${cassandraAt.port}`], keyspace, tenant, consistency: 'ONE', historyBucketSize: 16 },
      sequenceBlockSize: 10,
    });
    opened.push(stores);
    return { stores, logic: new Logic(stores, clock, { auth: { passwords: { cost: 2 }, tokenTtlMs: 60_000 } }) };
  }

  async function register(n: Node): Promise<Record<User, SessionInfo>> {
    const sessions: Partial<Record<User, SessionInfo>> = {};
    for (const [i, userId] of USERS.entries()) {
      const { session } = await n.logic.register({ connectionId: `c${i}`, remoteAddress: '-', client: 'spec' }, { userId, password: 'pw', deviceId: 'd', platform: 1 });
      sessions[userId] = session;
    }
    return sessions as Record<User, SessionInfo>;
  }

  async function lists(stores: Stores): Promise<Record<string, { items: Omit<ConversationState, 'rev'>[]; totalUnread: number }>> {
    const out: Record<string, { items: Omit<ConversationState, 'rev'>[]; totalUnread: number }> = {};
    for (const userId of USERS) {
      const { items, totalUnread } = await stores.conversations.list(userId, 100);
      out[userId] = { items: items.map(shown), totalUnread };
    }
    return out;
  }

  beforeEach(() => {
    keyPrefix = uniqueName('tern-test:');
    tenant = uniqueName('t');
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await deleteKeys(services.admin(), keyPrefix);
  });

  it('keeps conversation lists, unread counts and read marks when Redis loses every key, and counts on from them', async () => {
    const a = await node();
    const b = await node();
    const s = await register(a);
    const ab = directConversationId('ann', 'ben');
    const send = (n: Node, from: User, to: User, text: string) => n.logic.request(s[from], 'send', { clientMsgId: `${from}-${text}`, to, kind: 1, content: text });
    // ann → ben 1, 2, 3 · ben → ann 4 · ann → ben 5, 6, 7, sent from two nodes; ann → cat 1.
    for (const [i, text] of ['a1', 'a2', 'a3'].entries()) await send(i % 2 ? a : b, 'ann', 'ben', text);
    await send(b, 'ben', 'ann', 'b4');
    for (const [i, text] of ['a5', 'a6', 'a7'].entries()) await send(i % 2 ? b : a, 'ann', 'ben', text);
    await send(a, 'ann', 'cat', 'c1');
    await b.logic.request(s.ben, 'markRead', { conversationId: ab, seq: 3 });
    await a.logic.request(s.ann, 'recall', { conversationId: ab, seq: 5 });
    const before = await lists(a.stores);
    assert.deepEqual(
      USERS.map((u) => before[u]?.items.map((c) => [c.conversationId, c.unread, c.readSeq, c.lastSeq])),
      [
        [[directConversationId('ann', 'cat'), 0, 0, 1], [ab, 1, 0, 7]],
        [[ab, 2, 3, 7]],
        [[directConversationId('ann', 'cat'), 1, 0, 1]],
      ],
      'the state before the loss',
    );

    await deleteKeys(services.admin(), keyPrefix);
    assert.equal((await services.admin().keys(`${keyPrefix}*`)).length, 0, 'Redis holds nothing of the run');

    // A node that never saw the conversations reads them back, as one that did.
    const c = await node();
    assert.deepEqual(await lists(c.stores), before, 'every list, count and read mark as before the loss');
    assert.deepEqual(await lists(a.stores), before);
    const ben = await c.stores.conversations.get('ben', ab);
    assert.equal(ben?.lastMessage?.content, 'a7');
    assert.equal(await c.stores.conversations.markRead('ben', ab, 2, 0, ben?.rev), false, 'the read mark never moves back');

    await send(c, 'ann', 'ben', 'a8');
    const after = await b.stores.conversations.get('ben', ab);
    assert.ok(after && after.lastSeq > 7, `a new message takes a seq past the old ones (${after?.lastSeq})`);
    assert.equal(after?.unread, 3, 'and is counted on top of the rebuilt count');
    await a.logic.request(s.ben, 'markRead', { conversationId: ab, seq: after.lastSeq });
    assert.deepEqual([(await c.stores.conversations.get('ben', ab))?.unread, (await c.stores.conversations.list('ben', 10)).totalUnread], [0, 0]);

    // And once more: the read mark made after the first loss survives a second one.
    await deleteKeys(services.admin(), keyPrefix);
    const again = await c.stores.conversations.get('ben', ab);
    assert.deepEqual([again?.readSeq, again?.unread], [after.lastSeq, 0]);
  });

  it('keeps each count equal to its recount from history under concurrent sends, read marks and recalls on two nodes, across a loss of every key', async () => {
    const nodes = [await node(), await node()];
    const s = await register(nodes[0] as Node);
    const pairs: [User, User][] = [['ann', 'ben'], ['ben', 'ann'], ['cat', 'ben'], ['ann', 'cat']];
    let n = 0;
    const round = async (r: number): Promise<void> => {
      await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const at = nodes[(r + i) % 2] as Node;
          const [from, to] = pairs[(r * 5 + i) % pairs.length] as [User, User];
          const conversationId = directConversationId(from, to);
          if (i % 3 !== 2) {
            await at.logic.request(s[from], 'send', { clientMsgId: `k${n++}`, to, kind: 1, content: `r${r}` });
            return;
          }
          // The receiver reads to the last seq, while the sender recalls its newest message.
          const state = await at.stores.conversations.get(to, conversationId);
          if (!state) return;
          await Promise.all([
            at.logic.request(s[to], 'markRead', { conversationId, seq: state.lastSeq }).catch((e: unknown) => assert.match(String(e), /kept changing/)),
            (async () => {
              const newest = (await at.stores.history.page(conversationId, undefined, 5)).messages.find((m) => m.from === from);
              if (newest) await (nodes[(r + i + 1) % 2] as Node).logic.request(s[from], 'recall', { conversationId, seq: newest.seq });
            })(),
          ]);
        }),
      );
    };
    const check = async (stores: Stores, when: string): Promise<void> => {
      for (const userId of USERS) {
        const { items, totalUnread } = await stores.conversations.list(userId, 100);
        assert.equal(totalUnread, items.reduce((sum, c) => sum + c.unread, 0), `${when}: total of ${userId}`);
        for (const c of items) assert.equal(c.unread, await recount(stores, userId, c), `${when}: ${userId} in ${c.conversationId}`);
      }
    };
    for (let r = 0; r < 6; r++) await round(r);
    await check((nodes[0] as Node).stores, 'before the loss');
    await deleteKeys(services.admin(), keyPrefix);
    for (let r = 6; r < 12; r++) await round(r);
    await check((nodes[1] as Node).stores, 'after the loss');
  });

  it('keeps the highest read seq on Cassandra whatever order the writes arrive in, for conversations and groups', async () => {
    const durable = await openCassandraStore({ contactPoints: [`${cassandraAt.host}:${cassandraAt.port}`], keyspace, tenant, consistency: 'ONE' });
    try {
      await durable.conversations.putRow('ben', 'p:ann:ben', 'ann');
      // A mark replayed late, and two marks written at once: the higher one stays.
      await durable.conversations.putReadSeq('ben', 'p:ann:ben', 7);
      await durable.conversations.putReadSeq('ben', 'p:ann:ben', 5);
      await Promise.all([durable.conversations.putReadSeq('ben', 'p:ann:ben', 6), durable.groups.putReadSeq('g1', 'ben', 9), durable.groups.putReadSeq('g1', 'ben', 8)]);
      await durable.groups.putReadSeq('g1', 'ben', 3);
      assert.deepEqual(await durable.conversations.rows('ben'), [{ conversationId: 'p:ann:ben', peer: 'ann', readSeq: 7 }]);
      assert.equal(await durable.groups.readSeq('g1', 'ben'), 9);
    } finally {
      await durable.close();
    }
  });

  it('applies one of many concurrent read marks counted from one rev, and takes a message recalled many times at once off the count once, on two nodes', async () => {
    const [a, b] = [await node(), await node()];
    const s = await register(a);
    const ab = directConversationId('ann', 'ben');
    for (let i = 0; i < 10; i++) await (i % 2 ? a : b).logic.request(s.ann, 'send', { clientMsgId: `x${i}`, to: 'ben', kind: 1, content: `x${i}` });
    const state = await a.stores.conversations.get('ben', ab);
    assert.equal(state?.unread, 10);
    // Twenty marks at once, each counted from the same row: seq k clears k messages.
    const marks = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).stores.conversations.markRead('ben', ab, 1 + (i % 9), 1 + (i % 9), state?.rev ?? 0)));
    assert.equal(marks.filter(Boolean).length, 1, 'exactly one mark is applied');
    const marked = await b.stores.conversations.get('ben', ab);
    assert.equal(marked?.unread, 10 - (marked?.readSeq ?? 0), 'its count, and only its count, is taken off');
    // Ten recalls of the newest message at once, from both nodes.
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).logic.request(s.ann, 'recall', { conversationId: ab, seq: 10 })));
    const after = await a.stores.conversations.get('ben', ab);
    assert.equal(after?.unread, 9 - (marked?.readSeq ?? 0));
    assert.equal(after?.lastMessage?.recalled, true);
    assert.equal((await a.stores.conversations.list('ben', 10)).totalUnread, after?.unread);
  });
});
