/** Sequences and history: the per-conversation order of messages. */
import assert from 'node:assert/strict';
import type { MessageRecord } from '../../../protocol/bodies.ts';
import type { HistoryPage } from '../../../storage/ports.ts';
import type { Harness } from '../conformance.ts';
import { message, range } from './fixtures.ts';

/** What a page must be, computed from the seqs stored. */
function expectedPage(stored: readonly number[], beforeSeq: number | undefined, limit: number): { seqs: number[]; hasMore: boolean } {
  const older = stored.filter((s) => beforeSeq === undefined || s < beforeSeq).sort((a, b) => b - a);
  return { seqs: older.slice(0, limit), hasMore: older.length > limit };
}

function seqsOf(page: HistoryPage): { seqs: number[]; hasMore: boolean } {
  return { seqs: page.messages.map((m) => m.seq), hasMore: page.hasMore };
}

export function describeSequences(h: Harness): void {
  describe('sequences', () => {
    it('counts 1, 2, 3 … per conversation, independently', async () => {
      const { sequences } = await h.open();
      const a: number[] = [];
      const b: number[] = [];
      for (const _ of range(5)) {
        a.push(await sequences.next('p:ann:ben'));
        if (a.length % 2 === 1) b.push(await sequences.next('p:ann:cat'));
      }
      assert.deepEqual(a, [1, 2, 3, 4, 5]);
      assert.deepEqual(b, [1, 2, 3]);
    });

    it('never hands the same value to concurrent callers', async () => {
      const { sequences } = await h.open();
      const values = await Promise.all(range(300).map(() => sequences.next('p:ann:ben')));
      assert.deepEqual([...values].sort((x, y) => x - y), range(300).map((i) => i + 1));
    });
  });
}

export function describeHistory(h: Harness): void {
  describe('history', () => {
    const c = 'p:ann:ben';

    it('stores a message under its conversation and seq, with every field intact', async () => {
      const { history } = await h.open();
      const full: MessageRecord = message(c, 3, { content: '', kind: 7, recalled: true });
      await history.put(message(c, 2));
      await history.put(full);
      assert.deepEqual(await history.get(c, 2), message(c, 2));
      assert.deepEqual(await history.get(c, 3), full);
      assert.equal(await history.get(c, 4), undefined);
      assert.equal(await history.get('p:ann:cat', 2), undefined);
    });

    it('pages newest first, beforeSeq exclusive, with hasMore exactly when older messages remain', async () => {
      const { history } = await h.open();
      // Gaps on purpose: a seq may be handed out and never stored.
      const stored = [1, 2, 3, 5, 6, 7, 8, 11, 12, 14];
      await Promise.all(stored.map((seq) => history.put(message(c, seq))));
      for (const beforeSeq of [undefined, ...range(17)]) {
        for (const limit of [1, 2, 3, 4, 9, 10, 11, 30]) {
          const page = await history.page(c, beforeSeq, limit);
          assert.deepEqual(seqsOf(page), expectedPage(stored, beforeSeq, limit), `beforeSeq ${beforeSeq}, limit ${limit}`);
        }
      }
    });

    it('walks a long conversation back to its first message, page by page', async () => {
      const { history } = await h.open();
      const stored = range(2_345).map((i) => i + 1);
      for (let i = 0; i < stored.length; i += 500) {
        await Promise.all(stored.slice(i, i + 500).map((seq) => history.put(message(c, seq))));
      }
      const seen: number[] = [];
      let before: number | undefined;
      for (;;) {
        const page = await history.page(c, before, 100);
        seen.push(...page.messages.map((m) => m.seq));
        if (!page.hasMore) break;
        before = page.messages.at(-1)?.seq;
      }
      assert.deepEqual(seen, [...stored].reverse());
    });

    it('answers an empty page for an empty conversation', async () => {
      const { history } = await h.open();
      assert.deepEqual(await history.page(c, undefined, 20), { messages: [], hasMore: false });
      assert.deepEqual(await history.page(c, 5, 20), { messages: [], hasMore: false });
    });

    it('overwrites a message stored again under the same seq', async () => {
      const { history } = await h.open();
      await history.put(message(c, 1));
      await history.put(message(c, 2));
      const tombstone = message(c, 1, { content: '', recalled: true });
      await history.put(tombstone);
      assert.deepEqual(await history.get(c, 1), tombstone);
      const page = await history.page(c, undefined, 10);
      assert.deepEqual(page.messages, [message(c, 2), tombstone]);
    });

    it('keeps conversations whose ids share a prefix apart', async () => {
      const { history } = await h.open();
      await history.put(message('p:ann:bo', 1));
      await history.put(message('p:ann:bob', 1));
      await history.put(message('p:ann:bob', 2));
      assert.deepEqual(seqsOf(await history.page('p:ann:bo', undefined, 10)), { seqs: [1], hasMore: false });
      assert.deepEqual(seqsOf(await history.page('p:ann:bob', undefined, 10)), { seqs: [2, 1], hasMore: false });
    });
  });
}
