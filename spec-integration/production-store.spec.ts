import type { Redis } from 'ioredis';
import { describeStoreConformance } from '../spec/storage/conformance.ts';
import { openProductionStore } from '../storage/production.ts';
import { cassandraAt, deleteKeys, dropKeyspace, redisAt, requireCassandra, requireRedis, uniqueName } from './support/services.ts';

describe('production store (Redis + Cassandra)', () => {
  const keyspace = uniqueName('tern_test_');
  let created = false;
  let admin: Redis;
  before(async () => {
    admin = await requireRedis();
    // Creates the keyspace and tables once; each test then works under a tenant of its own.
    await (await requireCassandra(keyspace)).close();
    created = true;
  });
  after(async () => {
    await admin?.quit();
    if (created) await dropKeyspace(keyspace);
  });

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
        await deleteKeys(admin, keyPrefix);
      },
    };
  });
});
