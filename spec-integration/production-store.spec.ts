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
});
