/** What the Redis store does beyond the ports' contract: expiry, key prefixes, script reloads. */
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import type { Stores } from '../storage/ports.ts';
import { openRedisStore } from '../storage/redis/redis-store.ts';
import { deleteKeys, redisAt, requireRedis, uniqueName } from './support/services.ts';

const WEEK = 7 * 24 * 3600;

describe('Redis store: hot state', () => {
  let admin: Redis;
  let prefix: string;
  let stores: Stores;

  before(async () => {
    admin = await requireRedis();
  });
  beforeEach(async () => {
    prefix = uniqueName('tern-test:');
    stores = await openRedisStore({ ...redisAt, keyPrefix: prefix });
  });
  afterEach(async () => {
    await stores?.close();
    await deleteKeys(admin, prefix);
  });
  after(async () => {
    await admin?.quit();
  });

  it('lets a token expire in Redis at its expiresAt', async () => {
    await stores.tokens.put('soon', { userId: 'ann', deviceId: 'phone', expiresAt: Date.now() + 150 });
    await stores.tokens.put('later', { userId: 'ann', deviceId: 'phone', expiresAt: Date.now() + 3_600_000 });
    assert.equal((await stores.tokens.get('soon'))?.userId, 'ann');
    const ttl = await admin.pttl(`${prefix}tok:later`);
    assert.ok(ttl > 3_500_000 && ttl <= 3_600_000, `ttl ${ttl}`);
    const deadline = Date.now() + 5_000;
    while ((await stores.tokens.get('soon')) !== undefined) {
      assert.ok(Date.now() < deadline, 'the token did not expire');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  });

  it('remembers client message ids for 7 days, and keeps an idle inbox for 7 days', async () => {
    await stores.dedup.put('ann', 'c1', { messageId: 'm1', conversationId: 'p:ann:ben', seq: 1, sentAt: 1 });
    await stores.inbox.append('ben', { type: 1, conversationId: 'p:ann:ben', seq: 1 });
    for (const key of [`${prefix}dd:{ann}:c1`, `${prefix}inbox:{ben}`]) {
      const ttl = await admin.ttl(key);
      assert.ok(ttl > WEEK - 60 && ttl <= WEEK, `${key}: ttl ${ttl}`);
    }
    assert.equal(await admin.ttl(`${prefix}ver:{ben}`), -1, 'the version counter never expires');
  });

  it('answers an inbox whose entries expired as empty, with every version behind the oldest kept', async () => {
    for (const seq of [1, 2, 3]) await stores.inbox.append('ben', { type: 1, conversationId: 'p:ann:ben', seq });
    await admin.del(`${prefix}inbox:{ben}`);
    const read = await stores.inbox.read('ben', 1, 10);
    assert.deepEqual(read.entries, []);
    assert.equal(read.latestVersion, 3);
    assert.equal(read.oldestVersion, 4);
    assert.equal((await stores.inbox.append('ben', { type: 1, conversationId: 'p:ann:ben', seq: 4 })).version, 4);
  });

  it('starts a new inbox epoch when the inbox keys are gone, so restarted versions are never paired with the old epoch', async () => {
    const first = await Promise.all([1, 2, 3].map((seq) => stores.inbox.append('ben', { type: 1, conversationId: 'p:ann:ben', seq })));
    const { epoch } = first[0]!;
    assert.deepEqual(first.map((p) => p.epoch), [epoch, epoch, epoch]);
    assert.equal(await admin.ttl(`${prefix}epoch:{ben}`), -1, 'the epoch never expires');
    // What a FLUSHALL or an empty restart does to this prefix.
    await deleteKeys(admin, prefix);
    const read = await stores.inbox.read('ben', 3, 10);
    assert.notEqual(read.epoch, epoch);
    assert.equal(read.latestVersion, 0);
    const after = await stores.inbox.append('ben', { type: 1, conversationId: 'p:ann:ben', seq: 4 });
    assert.deepEqual(after, { version: 1, epoch: read.epoch }, 'versions start over, under the new epoch only');
    assert.deepEqual(await stores.inbox.position('ben'), after);
  });

  it('separates stores with different key prefixes', async () => {
    await stores.accounts.create({ userId: 'ann', salt: 's', passwordHash: 'h', createdAt: 1 });
    await stores.conversations.recordMessage('ben', 'ann', { messageId: 'm', conversationId: 'p:ann:ben', seq: 1, from: 'ann', to: 'ben', kind: 1, content: 'x', sentAt: 1, clientMsgId: 'c' }, true);
    const other = await openRedisStore({ ...redisAt, keyPrefix: uniqueName('tern-test:') });
    try {
      assert.equal(await other.accounts.get('ann'), undefined);
      assert.equal((await other.conversations.list('ben', 10)).totalUnread, 0);
    } finally {
      await other.close();
    }
    const [, keys] = await admin.scan('0', 'MATCH', `${prefix}*`, 'COUNT', 10_000);
    assert.ok(keys.length >= 4, keys.join(' '));
  });

  it('runs its scripts again after the server forgot them (SCRIPT FLUSH)', async () => {
    await stores.conversations.recordMessage('ben', 'ann', { messageId: 'm', conversationId: 'p:ann:ben', seq: 1, from: 'ann', to: 'ben', kind: 1, content: 'x', sentAt: 1, clientMsgId: 'c' }, true);
    await admin.script('FLUSH');
    assert.equal(await stores.conversations.markRead('ben', 'p:ann:ben', 1, 1), true);
    assert.equal((await stores.conversations.list('ben', 10)).totalUnread, 0);
  });
});
