import { describeStoreConformance } from '../spec/storage/conformance.ts';
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
});
