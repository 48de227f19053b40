/** Inboxes: per-user timelines numbered by version, with device cursors. */
import assert from 'node:assert/strict';
import type { Harness } from '../conformance.ts';
import { messageEntry, range, readMarkEntry } from './fixtures.ts';

export function describeInbox(h: Harness): void {
  describe('inbox', () => {
    const c = 'p:ann:ben';

    it('numbers each user’s entries 1, 2, 3 …, independently of other users', async () => {
      const { inbox } = await h.open();
      assert.equal((await inbox.position('ben')).version, 0);
      assert.equal((await inbox.append('ben', messageEntry(c, 1))).version, 1);
      assert.equal((await inbox.append('ben', messageEntry(c, 2))).version, 2);
      assert.equal((await inbox.append('ann', messageEntry(c, 2))).version, 1);
      assert.equal((await inbox.append('ben', readMarkEntry(c, 2, 'ann'))).version, 3);
      assert.equal((await inbox.position('ben')).version, 3);
      assert.equal((await inbox.position('ann')).version, 1);
    });

    it('gives every position of an inbox one epoch while it keeps its state: append, read and position agree', async () => {
      const { inbox } = await h.open();
      const before = await inbox.position('ben');
      assert.match(before.epoch, /^[0-9a-f]{16}$/);
      const appended = await Promise.all(range(20).map((i) => inbox.append('ben', messageEntry(c, i + 1))));
      const read = await inbox.read('ben', 0, 100);
      const after = await inbox.position('ben');
      assert.deepEqual(new Set([before.epoch, ...appended.map((p) => p.epoch), read.epoch, after.epoch]), new Set([before.epoch]));
    });

    it('reads the entries after a version, ascending, at most limit, with the entry intact', async () => {
      const { inbox } = await h.open();
      for (const seq of [1, 2, 3, 4]) await inbox.append('ben', messageEntry(c, seq));
      await inbox.append('ben', readMarkEntry(c, 4, 'ann'));
      const first = await inbox.read('ben', 0, 2);
      assert.deepEqual(first.entries, [
        { ...messageEntry(c, 1), version: 1 },
        { ...messageEntry(c, 2), version: 2 },
      ]);
      assert.equal(first.latestVersion, 5);
      assert.equal(first.oldestVersion, 1);
      const rest = await inbox.read('ben', 3, 100);
      assert.deepEqual(rest.entries, [
        { ...messageEntry(c, 4), version: 4 },
        { ...readMarkEntry(c, 4, 'ann'), version: 5 },
      ]);
      assert.deepEqual((await inbox.read('ben', 5, 100)).entries, []);
    });

    it('drops entries older than the retention period and reports the oldest one kept', async () => {
      let now = 1_000_000;
      const { inbox } = await h.open({ inboxRetentionMs: 60_000, now: () => now });
      await inbox.append('ben', messageEntry(c, 1));
      await inbox.append('ben', messageEntry(c, 2));
      now += 61_000;
      await inbox.append('ben', messageEntry(c, 3));
      const read = await inbox.read('ben', 0, 100);
      assert.deepEqual(read.entries, [{ ...messageEntry(c, 3), version: 3 }]);
      assert.equal(read.oldestVersion, 3);
      assert.equal(read.latestVersion, 3);
      now += 61_000;
      const later = await inbox.read('ben', 3, 100);
      assert.deepEqual(later.entries, []);
      assert.equal(later.oldestVersion, 4, 'nothing is kept any more');
    });

    it('answers an empty read for an empty inbox', async () => {
      const { inbox } = await h.open();
      const read = await inbox.read('nobody', 0, 10);
      assert.deepEqual(read.entries, []);
      assert.equal(read.latestVersion, 0);
      assert.ok(read.oldestVersion <= 1);
    });

    it('gives concurrent appends distinct, gap-free versions', async () => {
      const { inbox } = await h.open();
      const versions = (await Promise.all(range(200).map((i) => inbox.append('ben', messageEntry(c, i + 1))))).map((p) => p.version);
      assert.deepEqual([...versions].sort((x, y) => x - y), range(200).map((i) => i + 1));
      const read = await inbox.read('ben', 0, 1000);
      assert.deepEqual(read.entries.map((e) => e.version), range(200).map((i) => i + 1));
      for (const entry of read.entries) assert.equal(entry.seq, versions.indexOf(entry.version) + 1, 'each entry under its own version');
    });

    it('keeps only the newest maxEntries, and says which version is now the oldest', async () => {
      const { inbox } = await h.open({ inboxMaxEntries: 5 });
      for (const seq of range(8)) await inbox.append('ben', messageEntry(c, seq + 1));
      const read = await inbox.read('ben', 0, 100);
      assert.deepEqual(read.entries.map((e) => e.version), [4, 5, 6, 7, 8]);
      assert.equal(read.oldestVersion, 4);
      assert.equal(read.latestVersion, 8);
      assert.deepEqual((await inbox.read('ben', 6, 100)).entries.map((e) => e.version), [7, 8]);
    });

    it('keeps a cursor per device, 0 until set', async () => {
      const { inbox } = await h.open();
      assert.equal(await inbox.cursor('ben', 'phone'), 0);
      await inbox.setCursor('ben', 'phone', 7);
      await inbox.setCursor('ben', 'laptop', 3);
      await inbox.setCursor('ben', 'phone', 9);
      assert.equal(await inbox.cursor('ben', 'phone'), 9);
      assert.equal(await inbox.cursor('ben', 'laptop'), 3);
      assert.equal(await inbox.cursor('ann', 'phone'), 0);
    });
  });
}
