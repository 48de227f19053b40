/** The embedded store's conversation cache is bounded by bytes and holds no message content. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directConversationId } from '../../server/logic/ids.ts';
import { EmbeddedConversations } from '../../storage/embedded/conversations.ts';
import { openEmbeddedStore } from '../../storage/embedded/embedded-store.ts';
import type { Stores } from '../../storage/ports.ts';

const BIG = 'x'.repeat(65_536);

async function commitAll(stores: Stores, users: number, peers: number): Promise<void> {
  const commits = [];
  let n = 0;
  for (let u = 0; u < users; u++) {
    for (let p = 0; p < peers; p++) {
      const from = `peer${p}`;
      const to = `user${u}`;
      commits.push(stores.messages.commit({ from, to, conversationId: directConversationId(from, to), clientMsgId: `c${n}`, kind: 1, content: BIG, messageId: `m${n++}`, sentAt: 1_000 + n }));
    }
  }
  await Promise.all(commits);
}

describe('embedded conversation cache', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tern-convcache-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('holds no last-message content: 300 conversations with 64 Ki-character messages cost under 300 KB', async () => {
    const stores = openEmbeddedStore({ path: dir });
    try {
      await commitAll(stores, 1, 300);
      const cache = stores.conversations as EmbeddedConversations;
      assert.ok(cache instanceof EmbeddedConversations);
      // Two rows per message: the receiver's list and the sender's.
      assert.ok(cache.cacheStats.bytes < 300 * 2 * 500, `${cache.cacheStats.bytes} bytes cached`);
      const { items } = await stores.conversations.list('user0', 1000);
      assert.equal(items.length, 300);
      assert.ok(items.every((i) => i.lastMessage?.content === BIG), 'the last messages are read from history');
    } finally {
      await stores.close();
    }
  });

  it('puts a conversation row once per turn however many messages of that turn change it, and the rows survive a reopen', async () => {
    const first = openEmbeddedStore({ path: dir });
    const conversationId = directConversationId('alice', 'bob');
    try {
      const rows = first.conversations as EmbeddedConversations;
      // 50 commits issued in one turn: the receiver's and the sender's rows change 50 times each.
      await Promise.all(
        Array.from({ length: 50 }, (_, n) => first.messages.commit({ from: 'alice', to: 'bob', conversationId, clientMsgId: `c${n}`, kind: 1, content: 'hi', messageId: `m${n}`, sentAt: 1_000 + n })),
      );
      assert.equal(rows.rowPuts, 2);
    } finally {
      await first.close();
    }
    const reopened = openEmbeddedStore({ path: dir });
    try {
      const bob = await reopened.conversations.list('bob', 10);
      assert.deepEqual(
        bob.items.map((i) => [i.conversationId, i.unread, i.lastSeq]),
        [[conversationId, 50, 50]],
      );
      assert.equal(bob.totalUnread, 50);
      const alice = await reopened.conversations.get('alice', conversationId);
      assert.equal(alice?.lastSeq, 50);
      assert.equal(alice?.unread, 0);
    } finally {
      await reopened.close();
    }
  });

  it('stays within its byte budget by dropping the least recently used lists, which reload intact', async () => {
    const budget = 32 * 1024;
    const stores = openEmbeddedStore({ path: dir, conversationCacheBytes: budget });
    try {
      await commitAll(stores, 40, 5);
      await stores.durable();
      const cache = stores.conversations as EmbeddedConversations;
      assert.ok(cache.cacheStats.bytes <= budget, `${cache.cacheStats.bytes} bytes cached`);
      assert.ok(cache.cacheStats.users < 45, `${cache.cacheStats.users} users cached of 45`);
      for (let u = 0; u < 40; u++) {
        const { items, totalUnread } = await stores.conversations.list(`user${u}`, 100);
        assert.deepEqual([items.length, totalUnread], [5, 5], `user${u}`);
        assert.ok(cache.cacheStats.bytes <= budget + 5 * 500);
      }
    } finally {
      await stores.close();
    }
  });
});
