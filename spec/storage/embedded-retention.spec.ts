import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MessageRecord } from '../../protocol/bodies.ts';
import { openEmbeddedStore } from '../../storage/embedded/embedded-store.ts';

const DAY = 24 * 3600 * 1000;

const message = (seq: number, sentAt: number): MessageRecord => ({
  messageId: `m${seq}`,
  conversationId: 'p:ann:ben',
  seq,
  from: 'ann',
  to: 'ben',
  kind: 1,
  content: `#${seq}`,
  sentAt,
  clientMsgId: `c${seq}`,
});

// Cassandra keeps history with a TTL on the rows; the embedded store applies the same period on read.
describe('embedded history retention', () => {
  it('stops returning messages stored longer ago than the retention period, and pages end before them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tern-retention-'));
    let now = 1_800_000_000_000;
    const stores = openEmbeddedStore({ path: dir, historyRetentionMs: 180 * DAY, now: () => now });
    try {
      // Each message is stored at its send time; retention counts from when it was stored.
      for (const [seq, age] of [[1, 200], [2, 100], [3, 1]] as const) {
        const sentAt = now - age * DAY;
        const clock = now;
        now = sentAt;
        await stores.history.put(message(seq, sentAt));
        now = clock;
      }
      await stores.durable();
      const page = await stores.history.page('p:ann:ben', undefined, 10);
      assert.deepEqual(page.messages.map((m) => m.seq), [3, 2]);
      assert.equal(page.hasMore, false);
      assert.equal(await stores.history.get('p:ann:ben', 1), undefined);
      assert.equal((await stores.history.get('p:ann:ben', 2))?.content, '#2');
      now += 90 * DAY;
      assert.deepEqual((await stores.history.page('p:ann:ben', undefined, 1)).messages.map((m) => m.seq), [3]);
      assert.equal((await stores.history.page('p:ann:ben', undefined, 1)).hasMore, false, 'seq 2 expired meanwhile');
    } finally {
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
