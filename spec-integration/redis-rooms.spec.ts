/**
 * Live rooms on Redis: the room log (seqs, ranges, trimming) and the broadcast between nodes, a
 * channel per room that only nodes with viewers in the room listen to, with online counts summed
 * over the nodes.
 */
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { RoomMessageRecord } from '../protocol/bodies.ts';
import type { RoomBroadcastBatch } from '../server/seam.ts';
import { connectRedis } from '../storage/redis/connect.ts';
import { Keys } from '../storage/redis/keys.ts';
import { RedisRoomBroadcast } from '../storage/redis/room-broadcast.ts';
import { RedisRoomLog, roomAppendScript } from '../storage/redis/room-log.ts';
import { deleteKeys, redisAt, requireRedis, uniqueName } from './support/services.ts';

const message = (n: number, seq = 0): RoomMessageRecord => ({ messageId: `m${n}`, from: 'ann', kind: 1, content: `c${n}`, sentAt: 1_800_000_000_000 + n, seq });

async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!predicate()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('Redis: live rooms', () => {
  let admin: Redis;
  let prefix: string;
  const opened: RedisRoomBroadcast[] = [];

  before(async () => {
    admin = await requireRedis();
  });
  beforeEach(() => {
    prefix = uniqueName('tern-test:');
  });
  afterEach(async () => {
    for (const b of opened.splice(0)) await b.close();
    await deleteKeys(admin, prefix);
  });
  after(async () => {
    await admin?.quit();
  });

  it('gives reliable room messages seqs 1, 2, 3 …, reads ranges after a seq, and keeps the newest maxEntries', async () => {
    const redis = await connectRedis(redisAt, [roomAppendScript]);
    try {
      const log = new RedisRoomLog(redis, new Keys(prefix), { maxEntries: 5, retentionMs: 3_600_000, now: Date.now });
      for (let n = 1; n <= 8; n++) {
        const { seq: _seq, ...input } = message(n);
        assert.equal((await log.append('hall', input)).seq, n);
      }
      const page = await log.range('hall', 4, 2);
      assert.deepEqual(page.messages.map((m) => [m.seq, m.content]), [[5, 'c5'], [6, 'c6']]);
      assert.equal(page.hasMore, true);
      assert.deepEqual({ latestSeq: page.latestSeq, oldestSeq: page.oldestSeq }, { latestSeq: 8, oldestSeq: 4 });
      assert.deepEqual((await log.range('hall', 0, 100)).messages.map((m) => m.seq), [4, 5, 6, 7, 8]);
      assert.deepEqual(await log.state('empty'), { latestSeq: 0, oldestSeq: 1 });
    } finally {
      await redis.quit();
    }
  });

  it('carries a room batch to every node with viewers in the room, and not to the others', async () => {
    const nodes = await Promise.all(['a', 'b', 'c'].map((nodeId) => RedisRoomBroadcast.open({ ...redisAt, keyPrefix: prefix, nodeId, countEveryMs: 60_000 })));
    opened.push(...nodes);
    const got: RoomBroadcastBatch[][] = nodes.map(() => []);
    nodes.forEach((node, i) => node.attach((batch) => got[i]!.push(batch)));
    const [a, b, c] = nodes as [RedisRoomBroadcast, RedisRoomBroadcast, RedisRoomBroadcast];
    // Each resolves once its node hears the room.
    await Promise.all([a.viewers('hall', 2), b.viewers('hall', 3), c.viewers('other', 1)]);
    a.publish('hall', message(1), { reliableSeq: 0, online: 2 });
    a.publish('hall', message(2, 1), { reliableSeq: 1, online: 2 });
    await until(() => got[0]!.length === 1 && got[1]!.length === 1, 'the batch at a and b');
    for (const batches of [got[0]!, got[1]!]) {
      assert.equal(batches[0]!.roomId, 'hall');
      assert.deepEqual(batches[0]!.messages.map((m) => m.messageId), ['m1', 'm2'], 'one channel message for the turn, in order');
      assert.equal(batches[0]!.reliableSeq, 1);
    }
    await a.count();
    await b.count();
    assert.equal(b.online('hall', 3), 5, 'viewers summed over the nodes');
    await b.viewers('hall', 0);
    // UNSUBSCRIBE is not awaited by the port; a moment for it to take effect.
    await new Promise((resolve) => setTimeout(resolve, 100));
    a.publish('hall', message(3), { reliableSeq: 1, online: 2 });
    await until(() => got[0]!.length === 2, 'the second batch at a');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(got[1]!.length, 1, 'b stopped listening when its last viewer left');
    assert.equal(got[2]!.length, 0, 'c never listened to the room');
    assert.equal(await admin.hget(new Keys(prefix).roomOnline('hall'), 'b'), null, 'b took its count back');
  });
});
