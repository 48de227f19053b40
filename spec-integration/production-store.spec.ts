import assert from 'node:assert/strict';
import { describeStoreConformance } from '../spec/storage/conformance.ts';
import { message } from '../spec/storage/conformance/fixtures.ts';
import { openProductionStore } from '../storage/production.ts';
import { cassandraAt, deleteKeys, redisAt, uniqueName, useServices } from './support/services.ts';

describe('production store (Redis + Cassandra)', () => {
  const keyspace = uniqueName('tern_test_');
  // Redis and the keyspace are checked and made once, before the suite; each test works under a prefix of its own.
  const services = useServices(keyspace);

  describeStoreConformance('Redis + Cassandra', async (options) => {
    const keyPrefix = uniqueName('tern-test:');
    const stores = await openProductionStore({
      redis: { ...redisAt, keyPrefix, ...options },
      cassandra: { contactPoints: [`${cassandraAt.host}:${cassandraAt.port}`], keyspace, tenant: uniqueName('t'), historyBucketSize: 4 },
      // Small blocks: the suite's concurrent and sequential tests cross many block boundaries.
      sequenceBlockSize: 7,
    });
    return {
      ...stores,
      close: async () => {
        await stores.close();
        await deleteKeys(services.admin(), keyPrefix);
      },
    };
  });

  it('queues a burst of 6,000 concurrent writes instead of failing any (the driver refuses beyond 2,048 on a connection)', async function () {
    this.timeout(120_000);
    const keyPrefix = uniqueName('tern-test:');
    const stores = await openProductionStore({
      redis: { ...redisAt, keyPrefix },
      cassandra: { contactPoints: [`${cassandraAt.host}:${cassandraAt.port}`], keyspace, tenant: uniqueName('t'), consistency: 'ONE' },
    });
    try {
      const burst = Array.from({ length: 6_000 }, (_, i) => stores.history.put(message(`p:burst:${i % 50}`, Math.floor(i / 50) + 1)));
      const outcomes = await Promise.allSettled(burst);
      const failed = outcomes.filter((o) => o.status === 'rejected');
      assert.equal(failed.length, 0, `${failed.length} writes failed, first: ${String((failed[0] as PromiseRejectedResult | undefined)?.reason)}`);
      assert.equal((await stores.history.page('p:burst:7', undefined, 200)).messages.length, 120);
    } finally {
      await stores.close();
      await deleteKeys(services.admin(), keyPrefix);
    }
  });

  it('keeps groups, members, read seqs and the timeline when Redis loses every key, and numbers on past the old seqs', async function () {
    this.timeout(60_000);
    const keyPrefix = uniqueName('tern-test:');
    const stores = await openProductionStore({
      redis: { ...redisAt, keyPrefix },
      cassandra: { contactPoints: [`${cassandraAt.host}:${cassandraAt.port}`], keyspace, tenant: uniqueName('t'), consistency: 'ONE' },
      sequenceBlockSize: 10,
    });
    try {
      const groups = stores.groups as NonNullable<typeof stores.groups>;
      const group = { groupId: 'kept', name: 'kept', notice: '', owner: 'ann', open: false, mutedAll: false, noMedia: false, historyForNewMembers: false, createdAt: 1, writeDiffused: false };
      const member = (userId: string, role: number) => ({ userId, role, joinedAt: 1, mutedUntil: 0 });
      const event = { messageId: 'e1', from: 'ann', to: 'kept', kind: 0xff01, content: '{}', sentAt: 1, clientMsgId: 'event' };
      await groups.change('kept', { kind: 'create', group, members: [member('ann', 1), member('ben', 3)] }, event);
      for (let i = 0; i < 5; i++) await groups.post('kept', { messageId: `m${i}`, from: 'ann', to: 'kept', kind: 1, content: `m${i}`, sentAt: Date.now() - 60_000, clientMsgId: `c${i}` });
      assert.equal(await groups.markRead('kept', 'ben', 4), true);
      await deleteKeys(services.admin(), keyPrefix);
      const after = await groups.get('kept');
      assert.deepEqual([after?.memberCount, after?.lastSeq, after?.owner], [2, 6, 'ann'], 'members and the last seq come back from Cassandra');
      assert.deepEqual([...(await groups.memberIds('kept'))].sort(), ['ann', 'ben']);
      assert.ok((await groups.groupsOf('ben')).includes('kept'));
      assert.equal((await groups.member('kept', 'ben'))?.readSeq, 4, 'the read seq survives');
      assert.equal(await groups.markRead('kept', 'ben', 3), false, 'and never moves back');
      assert.deepEqual((await groups.timeline('kept', 0, 10)).map((m) => m.seq), [1, 2, 3, 4, 5, 6]);
      const next = await groups.post('kept', { messageId: 'm9', from: 'ben', to: 'kept', kind: 1, content: 'after', sentAt: Date.now(), clientMsgId: 'c9' });
      assert.ok(next.message.seq > 6, `a new post takes a seq past the old ones (${next.message.seq})`);
    } finally {
      await stores.close();
      await deleteKeys(services.admin(), keyPrefix);
    }
  });
});
