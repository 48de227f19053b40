/** The embedded store stops reading at a byte budget, so unsent rows are never decoded. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directConversationId } from '../../server/logic/ids.ts';
import { openEmbeddedStore } from '../../storage/embedded/embedded-store.ts';

describe('embedded reads within a byte budget', () => {
  it('stops inbox reads, history pages and last messages of conversation lists after the row that reaches maxBytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tern-budget-'));
    const stores = openEmbeddedStore({ path: dir });
    try {
      const content = 'x'.repeat(10_000);
      let n = 0;
      const send = (from: string, to: string) =>
        stores.messages.commit({ from, to, conversationId: directConversationId(from, to), clientMsgId: `c${n}`, kind: 1, content, messageId: `m${n++}`, sentAt: 1_000 + n });
      for (let i = 0; i < 10; i++) await send('ann', 'ben');
      for (const peer of ['cat', 'dan', 'eve', 'fay']) await send(peer, 'ben');
      const read = await stores.inbox.read('ben', 0, 200, 25_000);
      assert.deepEqual(read.entries.map((e) => e.version), [1, 2, 3]);
      assert.equal(read.latestVersion, 14);
      const page = await stores.history.page('p:ann:ben', undefined, 100, 25_000);
      assert.deepEqual([page.messages.map((m) => m.seq), page.hasMore], [[10, 9, 8], true]);
      const all = await stores.history.page('p:ann:ben', 4, 100, 25_000);
      assert.deepEqual([all.messages.map((m) => m.seq), all.hasMore], [[3, 2, 1], false]);
      const list = await stores.conversations.list('ben', 100, 25_000);
      assert.deepEqual(list.items.map((c) => [c.peer, c.lastMessage?.content.length ?? 0]), [['fay', 10_000], ['eve', 10_000], ['dan', 10_000], ['cat', 0], ['ann', 0]]);
    } finally {
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
