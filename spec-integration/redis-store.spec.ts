import type { Redis } from 'ioredis';
import { describeStoreConformance } from '../spec/storage/conformance.ts';
import { openRedisStore } from '../storage/redis/redis-store.ts';
import { deleteKeys, redisAt, requireRedis, uniqueName } from './support/services.ts';

describe('Redis store', () => {
  let admin: Redis;
  before(async () => {
    admin = await requireRedis();
  });
  after(async () => {
    await admin?.quit();
  });

  describeStoreConformance('Redis', async (options) => {
    const keyPrefix = uniqueName('tern-test:');
    const stores = await openRedisStore({ ...redisAt, keyPrefix, ...options });
    return {
      ...stores,
      close: async () => {
        await stores.close();
        await deleteKeys(admin, keyPrefix);
      },
    };
  });
});
