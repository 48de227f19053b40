/** The room log: reliable room messages under a per-room seq, read back by range. */
import assert from 'node:assert/strict';
import type { RoomMessageRecord } from '../../../protocol/bodies.ts';
import type { Harness } from '../conformance.ts';
import { range } from './fixtures.ts';

const gift = (n: number): Omit<RoomMessageRecord, 'seq'> => ({ messageId: `g${n}`, from: 'ann', kind: 7, content: `gift ${n} 🎁`, sentAt: 1_800_000_000_000 + n });

export function describeRoomLog(h: Harness): void {
  describe('room log', () => {
    it('numbers each room’s messages 1, 2, 3 …, independently, and keeps every field', async () => {
      const { roomLog } = await h.open();
      const a: number[] = [];
      const b: number[] = [];
      for (const n of range(5)) {
        a.push((await roomLog.append('hall', gift(n))).seq);
        if (n % 2 === 0) b.push((await roomLog.append('hall-2', gift(n))).seq);
      }
      assert.deepEqual(a, [1, 2, 3, 4, 5]);
      assert.deepEqual(b, [1, 2, 3]);
      const page = await roomLog.range('hall', 0, 1);
      assert.deepEqual(page.messages, [{ ...gift(0), seq: 1 }]);
    });

    it('reads the messages after a seq, ascending, at most limit, with hasMore and the kept range', async () => {
      const { roomLog } = await h.open();
      for (const n of range(7)) await roomLog.append('hall', gift(n));
      const page = await roomLog.range('hall', 2, 3);
      assert.deepEqual(page.messages.map((m) => m.seq), [3, 4, 5]);
      assert.equal(page.hasMore, true);
      assert.deepEqual({ latestSeq: page.latestSeq, oldestSeq: page.oldestSeq }, { latestSeq: 7, oldestSeq: 1 });
      const last = await roomLog.range('hall', 5, 3);
      assert.deepEqual(last.messages.map((m) => m.seq), [6, 7]);
      assert.equal(last.hasMore, false);
      assert.deepEqual(await roomLog.state('hall'), { latestSeq: 7, oldestSeq: 1 });
    });

    it('answers an empty room with nothing kept', async () => {
      const { roomLog } = await h.open();
      assert.deepEqual(await roomLog.state('nobody'), { latestSeq: 0, oldestSeq: 1 });
      const page = await roomLog.range('nobody', 0, 10);
      assert.deepEqual(page.messages, []);
      assert.equal(page.hasMore, false);
    });

    it('gives concurrent appends distinct, gap-free seqs, and a read after them sees them all', async () => {
      const { roomLog } = await h.open();
      const seqs = await Promise.all(range(100).map((n) => roomLog.append('busy', gift(n)).then((m) => m.seq)));
      assert.deepEqual([...seqs].sort((x, y) => x - y), range(100).map((i) => i + 1));
      assert.equal((await roomLog.range('busy', 0, 100)).messages.length, 100);
    });
  });
}
