import assert from 'node:assert/strict';
import { PushWindow } from '../../server/gateway/push-window.ts';
import { TimerWheel, type Expirable } from '../../server/gateway/timer-wheel.ts';
import { EntryType } from '../../protocol/bodies.ts';

const entry = (version: number) => ({ version, type: EntryType.readMark, conversationId: 'p:a:b', seq: version });

describe('PushWindow', () => {
  const options = { window: 3, queueLimit: 2, ackTimeoutMs: 1000, maxRetries: 2 };

  it('numbers pushes from SID 1, holds at most the window in flight and queues the rest up to the bound', () => {
    const w = new PushWindow<ReturnType<typeof entry>>(options);
    const admitted = [1, 2, 3].map((v) => w.offer(entry(v), 0));
    assert.deepEqual(admitted.map((p) => typeof p === 'object' && p.sid), [1, 2, 3]);
    assert.equal(w.offer(entry(4), 0), 'queued');
    assert.equal(w.offer(entry(5), 0), 'queued');
    assert.equal(w.offer(entry(6), 0), 'overflow');
    assert.deepEqual(w.take(0), []);
  });

  it('releases every SID up to a cumulative ACK and opens the window for the queue', () => {
    const w = new PushWindow<ReturnType<typeof entry>>(options);
    for (let v = 1; v <= 5; v++) w.offer(entry(v), 0);
    const result = w.ack(2);
    assert.ok(result.ok);
    assert.deepEqual(result.released.map((p) => p.sid), [1, 2]);
    assert.deepEqual(w.take(0).map((p) => [p.sid, p.payload.version]), [[4, 4], [5, 5]]);
  });

  it('refuses an ACK for a SID never sent', () => {
    const w = new PushWindow<ReturnType<typeof entry>>(options);
    w.offer(entry(1), 0);
    assert.equal(w.ack(2).ok, false);
  });

  it('resends overdue pushes with the same SID, doubling the timeout, then declares the connection dead', () => {
    const w = new PushWindow<ReturnType<typeof entry>>(options);
    w.offer(entry(1), 0);
    assert.deepEqual(w.overdue(999), []);
    const first = w.overdue(1000);
    assert.ok(Array.isArray(first));
    assert.deepEqual(first.map((p) => p.sid), [1]);
    assert.equal(w.nextDue(), 1000 + 2000);
    const second = w.overdue(3000);
    assert.ok(Array.isArray(second) && second[0]?.sid === 1);
    assert.equal(w.nextDue(), 3000 + 4000);
    assert.equal(w.overdue(7000), 'dead');
  });
});

describe('TimerWheel', () => {
  class Item implements Expirable {
    calls: number[] = [];
    constructor(private readonly deadlines: number[]) {}
    expire(now: number): number | undefined {
      this.calls.push(now);
      return this.deadlines.shift();
    }
  }

  it('fires items when their bucket is due and reschedules them at the deadline they return', () => {
    const wheel = new TimerWheel<Item>(100, 0);
    const item = new Item([550]);
    wheel.schedule(item, 250);
    wheel.advance(200);
    assert.deepEqual(item.calls, []);
    wheel.advance(300);
    assert.deepEqual(item.calls, [300]);
    wheel.advance(500);
    assert.deepEqual(item.calls, [300]);
    wheel.advance(600);
    assert.deepEqual(item.calls, [300, 600]);
    assert.equal(wheel.pendingBuckets, 0);
  });

  it('handles many items in few buckets', () => {
    const wheel = new TimerWheel<Item>(250, 0);
    const items = Array.from({ length: 10_000 }, () => new Item([]));
    items.forEach((item, i) => wheel.schedule(item, 1000 + (i % 4) * 250));
    assert.ok(wheel.pendingBuckets <= 4);
    wheel.advance(2000);
    assert.ok(items.every((item) => item.calls.length === 1));
  });
});
