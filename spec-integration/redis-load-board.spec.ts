import type { Redis } from 'ioredis';
import { describeBoardConformance } from '../spec/dispatch/board-conformance.ts';
import { RedisLoadBoard } from '../storage/redis/load-board.ts';
import { deleteKeys, requireRedis, uniqueName } from './support/services.ts';

describe('Redis dispatch board', () => {
  let admin: Redis;
  before(async () => {
    admin = await requireRedis();
  });
  after(async () => {
    await admin?.quit();
  });

  describeBoardConformance('Redis', async () => {
    const keyPrefix = uniqueName('tern-test:');
    return { board: new RedisLoadBoard(admin, keyPrefix), close: () => deleteKeys(admin, keyPrefix) };
  });
});
