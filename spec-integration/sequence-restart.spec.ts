/**
 * Sequences must never be reused: a reused seq would overwrite a stored message. These tests take
 * the Redis that holds the counters away in the ways it happens in production and check that the
 * production store's sequences keep increasing, while a plain INCR starts over.
 */
import assert from 'node:assert/strict';
import type { MessageRecord } from '../protocol/bodies.ts';
import type { Stores } from '../storage/ports.ts';
import { openProductionStore } from '../storage/production.ts';
import { openRedisStore } from '../storage/redis/redis-store.ts';
import { connectRedis } from '../storage/redis/connect.ts';
import { cassandraAt, dropKeyspace, requireCassandra, requireRedis, uniqueName } from './support/services.ts';
import { OwnRedis } from './support/redis-server.ts';

const C = 'p:ann:ben';

function message(seq: number): MessageRecord {
  return { messageId: `m${seq}`, conversationId: C, seq, from: 'ann', to: 'ben', kind: 1, content: `#${seq}`, sentAt: 1_700_000_000_000 + seq, clientMsgId: `c${seq}` };
}

/** Takes `count` seqs one after another, storing a message under each as the logic would. */
async function send(stores: Stores, count: number): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < count; i++) {
    const seq = await stores.sequences.next(C);
    await stores.history.put(message(seq));
    seqs.push(seq);
  }
  return seqs;
}

function assertIncreasing(seqs: readonly number[]): void {
  for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `seq ${seqs[i]} after ${seqs[i - 1]}: ${seqs.join(',')}`);
}

describe('sequences across a Redis that loses its data', function () {
  const keyspace = uniqueName('tern_test_');
  let created = false;
  let redis: OwnRedis;
  let stores: Stores;
  let keyPrefix: string;

  before(async () => {
    // The shared Redis is not touched; the check only makes a missing install fail clearly.
    await (await requireRedis()).quit();
    await (await requireCassandra(keyspace)).close();
    created = true;
    redis = await OwnRedis.start();
  });
  beforeEach(async () => {
    // The Redis prefix and the Cassandra tenant go together: the counters under one prefix are
    // bounded by the reservations under one tenant.
    keyPrefix = uniqueName('tern-test:');
    stores = await openProductionStore({
      redis: { port: redis.port, keyPrefix },
      cassandra: { contactPoints: [`${cassandraAt.host}:${cassandraAt.port}`], keyspace, tenant: uniqueName('t') },
      sequenceBlockSize: 100,
    });
  });
  afterEach(async () => {
    await stores?.close();
  });
  after(async () => {
    await redis?.stop();
    if (created) await dropKeyspace(keyspace);
  });

  it('keeps increasing after FLUSHALL, and no stored message is overwritten', async () => {
    const before = await send(stores, 30);
    const admin = await connectRedis({ port: redis.port });
    await admin.flushall();
    await admin.quit();
    const after = await send(stores, 30);
    assertIncreasing([...before, ...after]);
    const page = await stores.history.page(C, undefined, 100);
    assert.deepEqual(page.messages.map((m) => m.content), [...before, ...after].reverse().map((s) => `#${s}`));
  });

  it('keeps increasing when Redis is stopped and an empty one starts in its place, while a plain INCR starts over', async () => {
    const plain = await openRedisStore({ port: redis.port, keyPrefix: uniqueName('tern-test:') });
    try {
      const before = await send(stores, 30);
      const plainBefore = [await plain.sequences.next(C), await plain.sequences.next(C)];
      await redis.restartEmpty();
      // The open connections reconnect on their own; nothing is reopened.
      const after = await send(stores, 30);
      assertIncreasing([...before, ...after]);
      assert.deepEqual([...plainBefore, await plain.sequences.next(C)], [1, 2, 1], 'plain INCR reuses seq 1');
    } finally {
      await plain.close();
    }
  });

  it('keeps increasing after a restart whose AOF lost the last writes to the counter', async () => {
    const before = await send(stores, 30);
    // As if the last second before a crash never reached the AOF: the counter is back at 3.
    const admin = await connectRedis({ port: redis.port });
    await admin.hset(`${keyPrefix}seq:{${C}}`, 'v', 3);
    await admin.quit();
    await redis.restartKeepingData();
    const after = await send(stores, 30);
    assertIncreasing([...before, ...after]);
  });

  it('hands out distinct seqs to concurrent senders while Redis is flushed under them', async () => {
    const admin = await connectRedis({ port: redis.port });
    const all = await Promise.all(
      Array.from({ length: 400 }, async (_, i) => {
        if (i === 200) await admin.flushall();
        return stores.sequences.next(C);
      }),
    );
    await admin.quit();
    assert.equal(new Set(all).size, all.length, 'no seq handed out twice');
  });
});
