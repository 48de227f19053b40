/** The SDK's recovery pieces without sockets: reading history back, releasing in seq order, and its timers driven by hand. */
import assert from 'node:assert/strict';
import type { BodyOf, MessageRecord } from '../../protocol/bodies.ts';
import { MAX_RECOVERY_PAGES, recoverFromHistory, type RecoveredConversation } from '../../client/recovery.ts';
import { MAX_GAP_FETCH_FAILURES, Reorderer } from '../../client/reorder.ts';
import type { ClientTime } from '../../client/time.ts';

const C = 'p:ann:ben';

function message(seq: number, conversationId = C): MessageRecord {
  return { messageId: `${conversationId}#${seq}`, conversationId, seq, from: 'ann', to: 'ben', kind: 1, content: `#${seq}`, sentAt: seq, clientMsgId: `c${seq}` };
}

/** Timers that fire only when the test moves the clock. */
class ManualTime implements ClientTime {
  private at = 0;
  private timers: { at: number; task: () => void }[] = [];
  now(): number {
    return this.at;
  }
  after(ms: number, task: () => void): () => void {
    const timer = { at: this.at + ms, task };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }
  advance(ms: number): void {
    this.at += ms;
    const due = this.timers.filter((t) => t.at <= this.at);
    this.timers = this.timers.filter((t) => t.at > this.at);
    for (const timer of due) timer.task();
  }
  get pending(): number {
    return this.timers.length;
  }
}

/** A server's history of conversations, newest first per page, as `history` answers. */
function historyOf(seqs: Record<string, number>, list: string[] = Object.keys(seqs)) {
  const asked: { conversationId: string; beforeSeq: number | undefined }[] = [];
  return {
    asked,
    requests: {
      conversations: async (): Promise<BodyOf<'conversationList'>> => ({
        items: list.map((conversationId) => ({ conversationId, peer: 'x', unread: 0, readSeq: 0, updatedAt: 0 })),
        totalUnread: 0,
      }),
      history: async (conversationId: string, beforeSeq: number | undefined, limit: number): Promise<BodyOf<'historyPage'>> => {
        asked.push({ conversationId, beforeSeq });
        const top = Math.min((beforeSeq ?? Infinity) - 1, seqs[conversationId] ?? 0);
        const messages: MessageRecord[] = [];
        for (let seq = top; seq >= 1 && messages.length < limit; seq--) messages.push(message(seq, conversationId));
        return { conversationId, messages, hasMore: (messages.at(-1)?.seq ?? 1) > 1 };
      },
    },
  };
}

describe('SDK recovery', () => {
  it('reads each conversation back to the seq the device knew, from the list and from what it knows, ascending', async () => {
    const server = historyOf({ [C]: 250, 'p:ann:cat': 3, 'p:ben:dan': 7 }, [C, 'p:ann:cat']);
    const got: RecoveredConversation[] = [];
    const result = await recoverFromHistory(server.requests, new Map([[C, 120], ['p:ben:dan', 5]]), (c) => got.push(c));
    assert.deepEqual(result, { conversations: 3, messages: 130 + 3 + 2 });
    assert.deepEqual(got.map((c) => [c.conversationId, c.messages[0]?.seq, c.messages.at(-1)?.seq, c.messages.length, c.truncated]), [
      [C, 121, 250, 130, false],
      ['p:ann:cat', 1, 3, 3, false],
      ['p:ben:dan', 6, 7, 2, false],
    ]);
    // Two pages of 100 reach back past seq 120; no page further back is asked for.
    assert.deepEqual(server.asked.filter((a) => a.conversationId === C).map((a) => a.beforeSeq), [undefined, 151]);
  });

  it('stops reading a conversation back after its page bound and says so', async () => {
    const server = historyOf({ [C]: (MAX_RECOVERY_PAGES + 5) * 100 });
    const got: RecoveredConversation[] = [];
    await recoverFromHistory(server.requests, new Map(), (c) => got.push(c));
    assert.equal(server.asked.length, MAX_RECOVERY_PAGES);
    assert.deepEqual([got[0]?.truncated, got[0]?.messages.length], [true, MAX_RECOVERY_PAGES * 100]);
  });

  it('releases a caught-up run in seq order, with the messages that waited ahead of a gap, each once, and passes over the device’s own', () => {
    const time = new ManualTime();
    const released: number[] = [];
    const reorder = new Reorderer({ release: (m) => released.push(m.seq), fetchGap: async () => [], failed: assert.fail }, 500, time);
    reorder.seed(C, 2);
    reorder.add(message(6));
    reorder.add(message(3));
    assert.deepEqual(released, [3], 'seq 6 waits for 4 and 5');
    assert.equal(time.pending, 1, 'with a gap timer');
    // History brings 4 to 7; 6 is already waiting (shown as null, seen before) and 5 is this device's own unACKed send.
    reorder.catchUp(C, [
      { seq: 4, message: message(4) },
      { seq: 5, message: null },
      { seq: 6, message: null },
      { seq: 7, message: message(7) },
    ]);
    assert.deepEqual(released, [3, 4, 6, 7]);
    assert.equal(time.pending, 0, 'nothing waits, so the gap timer is gone');
    assert.equal(reorder.lastSeqs().get(C), 7);
    reorder.catchUp(C, [{ seq: 7, message: message(7) }]);
    assert.deepEqual(released, [3, 4, 6, 7], 'a run already released is not released again');
  });

  it('fetches a gap when its wait is over on the injected clock, asks again after a failed fetch, and reports each failure', async () => {
    const time = new ManualTime();
    const released: number[] = [];
    const failures: unknown[] = [];
    let fetches = 0;
    const reorder = new Reorderer(
      {
        release: (m) => released.push(m.seq),
        fetchGap: () => (++fetches < MAX_GAP_FETCH_FAILURES ? Promise.reject(new Error('connection closed')) : Promise.resolve([message(2), message(3)])),
        failed: (e) => failures.push(e),
      },
      500,
      time,
    );
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    reorder.seed(C, 1);
    reorder.add(message(4));
    time.advance(499);
    assert.deepEqual([released, fetches], [[], 0], 'still waiting at 499 ms');
    for (let i = 1; i < MAX_GAP_FETCH_FAILURES; i++) {
      time.advance(500);
      await settle();
      assert.deepEqual([fetches, failures.length, released], [i, i, []], `the gap is not passed over after ${i} failed fetches`);
    }
    time.advance(500);
    await settle();
    assert.deepEqual(released, [2, 3, 4], 'the fetch that succeeded fills the gap, in order');
  });

  it('passes a gap over after the bound of failed fetches, so waiting messages are not held forever', async () => {
    const time = new ManualTime();
    const released: number[] = [];
    const reorder = new Reorderer({ release: (m) => released.push(m.seq), fetchGap: () => Promise.reject(new Error('down')), failed: () => {} }, 500, time);
    reorder.seed(C, 1);
    reorder.add(message(4));
    for (let i = 0; i < MAX_GAP_FETCH_FAILURES; i++) {
      time.advance(500);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(released, [4]);
    assert.equal(time.pending, 0);
  });
});
