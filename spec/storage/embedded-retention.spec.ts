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

describe('embedded room log retention', () => {
  it('keeps the newest entries per room and nothing older than the retention period, and says where the log starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tern-room-retention-'));
    let now = 1_800_000_000_000;
    const stores = openEmbeddedStore({ path: dir, roomLogEntries: 20, roomLogRetentionMs: DAY, now: () => now });
    try {
      const gift = (n: number) => ({ messageId: `g${n}`, from: 'ann', kind: 7, content: `#${n}`, sentAt: now });
      for (let n = 1; n <= 50; n++) await stores.roomLog.append('hall', gift(n));
      const kept = await stores.roomLog.range('hall', 0, 100);
      assert.deepEqual(kept.messages.map((m) => m.seq), Array.from({ length: 20 }, (_, i) => i + 31));
      assert.deepEqual({ latestSeq: kept.latestSeq, oldestSeq: kept.oldestSeq }, { latestSeq: 50, oldestSeq: 31 });
      now += 2 * DAY;
      await stores.roomLog.append('hall', gift(51));
      const fresh = await stores.roomLog.range('hall', 0, 100);
      assert.deepEqual(fresh.messages.map((m) => m.seq), [51], `older than a day: gone (${fresh.oldestSeq})`);
      assert.equal(fresh.oldestSeq, 51);
    } finally {
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
