import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { Keys } from '../storage/redis/keys.ts';
import { RedisRouting, type Every } from '../server/routing/redis.ts';
import { MalformedNodeMessage, encodeNodeMessage } from '../server/routing/node-message.ts';
import { describeRoutingConformance, entry, Recorder, session } from '../spec/routing/conformance.ts';
import { ManualClock } from '../spec/support/server.ts';
import { deleteKeys, redisAt, requireRedis, uniqueName } from './support/services.ts';

describe('Redis routing', () => {
  let admin: Redis;
  const prefixes: string[] = [];
  before(async () => {
    admin = await requireRedis();
  });
  after(async () => {
    for (const prefix of prefixes) await deleteKeys(admin, prefix);
    await admin.quit();
  });
  const prefix = (): string => {
    const p = uniqueName('tern-test:');
    prefixes.push(p);
    return p;
  };

  describe('conformance', () => {
    let keyPrefix = '';
    beforeEach(() => {
      keyPrefix = prefix();
    });
    describeRoutingConformance('Redis', {
      open: async (nodeId, local) => {
        const routing = await RedisRouting.open({ ...redisAt, keyPrefix, nodeId });
        routing.attach(local);
        return routing;
      },
      user: (label) => uniqueName(`${label}-`),
    });
  });

  describe('across nodes', () => {
    const opened: RedisRouting[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((r) => r.close()));
    });
    /** Two nodes on one registry, sharing a manual clock and a refresh the test runs. */
    const nodes = async (clock = new ManualClock()) => {
      const keyPrefix = prefix();
      const refreshes: (() => void)[] = [];
      const every: Every = (_ms, run) => {
        refreshes.push(run);
        return () => undefined;
      };
      const errors: unknown[] = [];
      const open = async (nodeId: string) => {
        const local = new Recorder();
        const routing = await RedisRouting.open({ ...redisAt, keyPrefix, nodeId, clock, every, ttlMs: 90_000, onError: (e) => errors.push(e) });
        routing.attach(local);
        opened.push(routing);
        return { routing, local };
      };
      return { a: await open('na'), b: await open('nb'), clock, refreshes, errors, keys: new Keys(keyPrefix) };
    };

    it('pushes through the node that holds the connection, and kicks there', async () => {
      const { a, b } = await nodes();
      await b.routing.add(session('ann', 'phone', 1, 'b.1'));
      await a.routing.add(session('ann', 'laptop', 3, 'a.1'));
      a.routing.push('ann', entry(5));
      assert.deepEqual(await b.local.until(1), [{ kind: 'push', connectionIds: ['b.1'], seq: 5 }]);
      assert.deepEqual(await a.local.until(1), [{ kind: 'push', connectionIds: ['a.1'], seq: 5 }]);
      const [replaced] = await a.routing.add(session('ann', 'phone', 1, 'a.2'));
      assert.equal(replaced?.nodeId, 'nb');
      a.routing.kick(replaced!, { reason: 1, message: 'replaced' });
      assert.deepEqual((await b.local.until(2))[1], { kind: 'kick', connectionId: 'b.1', reason: 1 });
    });

    it('revokes and kicks on the node that holds the connection', async () => {
      const { a, b } = await nodes();
      await b.routing.add(session('cat', 'phone', 1, 'b.7'));
      const [route] = await a.routing.devices('cat');
      assert.equal(route?.nodeId, 'nb');
      a.routing.revokeAndKick(route!, { reason: 3, message: 'revoked' });
      assert.deepEqual(await b.local.until(1), [{ kind: 'revokeAndKick', connectionId: 'b.7', reason: 3 }]);
      assert.deepEqual(a.local.delivered, []);
    });

    it('drops and counts a malformed node message, and delivers the next good one', async () => {
      const { a, b, keys, errors } = await nodes();
      await b.routing.add(session('ann', 'phone', 1, 'b.1'));
      const channel = keys.nodeChannel('nb');
      const good = encodeNodeMessage({ kind: 'push', connectionIds: ['b.1'], entry: { version: 1, type: 1, conversationId: 'p:ann:ben', seq: 9 } });
      const bad = [
        Buffer.from('{"kind":"push","connectionIds":["b.1"],"entry":{}}'),
        Buffer.from([1, 0xc1]),
        Buffer.concat([good.subarray(0, 1), Buffer.from([0x92, 0x91, 0x01, 0x80])]),
        Buffer.from([9, 0x90]),
        Buffer.alloc(600 * 1024, 1),
        Buffer.concat([Buffer.from([2]), good.subarray(1)]),
      ];
      for (const payload of bad) await admin.publish(channel, payload);
      await admin.publish(channel, good);
      assert.deepEqual(await b.local.until(1), [{ kind: 'push', connectionIds: ['b.1'], seq: 9 }]);
      assert.deepEqual(b.routing.dropped, { nodeMessages: bad.length, entries: 0 });
      assert.equal(errors.length, bad.length);
      assert.ok(errors.every((e) => e instanceof MalformedNodeMessage));
      assert.deepEqual(a.routing.dropped, { nodeMessages: 0, entries: 0 });
    });

    it('lets the entries of a node that stopped refreshing expire on the injected clock, and keeps those refreshed', async () => {
      const { a, b, clock, refreshes } = await nodes();
      await a.routing.add(session('ann', 'phone', 1, 'a.1'));
      await b.routing.add(session('ann', 'laptop', 3, 'b.1'));
      clock.advance(60_000);
      refreshes[1]?.(); // only node b refreshes
      await b.routing.devices('ann'); // the refresh is fire-and-forget: a read after it on the same connection follows it
      clock.advance(60_000);
      assert.deepEqual((await a.routing.devices('ann')).map((r) => r.session.connectionId), ['b.1']);
      let offline = false;
      b.routing.push('ann', entry(3), 'laptop', () => {
        offline = true;
      });
      await b.routing.devices('ann');
      assert.equal(offline, true, 'the expired phone is not pushed to');
    });

    it('writes a live connection\'s entry again at the next refresh after Redis lost it, and leaves a newer login\'s entry alone', async () => {
      const { a, b, refreshes, keys } = await nodes();
      await b.routing.add(session('ann', 'phone', 1, 'b.1'));
      await b.routing.add(session('ben', 'phone', 1, 'b.2'));
      await admin.del(keys.online('ann'), keys.online('ben'));
      // ben logs in again on node a while Redis has lost b's entry: the refresh must not take it back.
      await a.routing.add(session('ben', 'phone', 1, 'a.9'));
      assert.deepEqual(await a.routing.devices('ann'), [], 'lost with the key');
      refreshes[1]?.();
      await b.routing.devices('ann');
      assert.deepEqual((await a.routing.devices('ann')).map((r) => r.session.connectionId), ['b.1']);
      assert.deepEqual((await a.routing.devices('ben')).map((r) => r.session.connectionId), ['a.9']);
      a.routing.push('ann', entry(7));
      assert.deepEqual(await b.local.until(1), [{ kind: 'push', connectionIds: ['b.1'], seq: 7 }]);
    });

    it('skips and counts a registry entry it cannot read', async () => {
      const { a, keys } = await nodes();
      await a.routing.add(session('ann', 'phone', 1, 'a.1'));
      await admin.hset(keys.online('ann'), 'bogus', '{"n":1}');
      assert.deepEqual((await a.routing.devices('ann')).map((r) => r.session.deviceId), ['phone']);
      assert.equal(a.routing.dropped.entries, 1);
    });
  });
});
