import assert from 'node:assert/strict';
import { losingEvery } from '../support/lossy-store.ts';
import type { MessageRecord } from '../../protocol/bodies.ts';
import { DeliveryChecker } from '../../loadgen/checker.ts';
import { runCoordinator } from '../../loadgen/coordinator.ts';
import { loadScenario } from '../../loadgen/scenario.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const message = (messageId: string, seq: number, conversationId = 'p:a:b'): MessageRecord => ({
  messageId,
  conversationId,
  seq,
  from: 'a',
  to: 'b',
  kind: 1,
  content: '',
  sentAt: 0,
  clientMsgId: messageId,
});

describe('load generator checker', () => {
  it('counts losses, duplicates and order violations', () => {
    const checker = new DeliveryChecker();
    checker.acknowledged('m1', ['b/1', 'b/2']);
    checker.acknowledged('m2', ['b/1']);
    checker.acknowledged('m3', ['b/1']);
    checker.received('b/1', message('m1', 1));
    checker.received('b/1', message('m3', 3));
    checker.received('b/1', message('m2', 2));
    checker.received('b/1', message('m2', 2));
    checker.received('a/1', message('m3', 3));
    const result = checker.result();
    assert.equal(result.misdelivered, 1, 'm3 reached a device it was not for');
    assert.equal(result.losses, 1, 'm1 never reached b/2');
    assert.equal(result.duplicates, 1);
    assert.equal(result.orderViolations, 1, 'seq 2 after seq 3');
    assert.equal(result.expectedDeliveries, 4);
  });
});

describe('load generator against a real server', function () {
  this.timeout(90_000);
  let server: TestServer;
  afterEach(async () => server?.stop());

  const run = (port: number, extra: Record<string, number>) =>
    runCoordinator(
      loadScenario(undefined, { port, users: 16, devicesPerUser: 2, workers: 1, rampPerSecond: 400, durationSeconds: 3, messagesPerUserPerSecond: 3, drainSeconds: 8, out: 'var/loadgen-spec', userPrefix: `s${Date.now().toString(36)}`, ...extra }),
      [],
      () => undefined,
    );

  it('runs groups: every acknowledged post reaches every other member device once, in order, also across churn', async () => {
    server = await startTestServer();
    const result = await run(server.port, { groupSize: 5, churnShare: 0.25, offlineSeconds: 1 });
    assert.ok(result.check.acked > 50, `only ${result.check.acked} acked`);
    assert.deepEqual([result.check.losses, result.check.duplicates, result.check.orderViolations, result.check.misdelivered], [0, 0, 0, 0]);
    // 16 users in groups of 5, 5, 5 and 1 (a group of one is not created): each post goes to 4 other members × 2 devices plus 1 carbon.
    assert.equal(result.check.expectedDeliveries, result.check.acked * 9);
    assert.equal(result.passed, true);
  });

  it('runs groups with part of each group offline: posts reach the online members only, once and in order', async () => {
    server = await startTestServer();
    const result = await run(server.port, { groupSize: 8, groupOnlineShare: 0.5 });
    assert.ok(result.check.acked > 30, `only ${result.check.acked} acked`);
    assert.deepEqual([result.check.losses, result.check.duplicates, result.check.orderViolations, result.check.misdelivered], [0, 0, 0, 0]);
    // 16 users in two groups of 8, 4 of each online with 2 devices: 3 other members × 2 devices plus 1 carbon.
    assert.equal(result.check.expectedDeliveries, result.check.acked * 7);
    assert.equal(result.passed, true);
  });

  it('finishes a small scenario with every acknowledged message delivered once, in order', async () => {
    server = await startTestServer();
    const result = await run(server.port, {});
    assert.ok(result.check.acked > 50, `only ${result.check.acked} acked`);
    assert.deepEqual([result.check.losses, result.check.duplicates, result.check.orderViolations, result.check.misdelivered], [0, 0, 0, 0]);
    assert.equal(result.check.expectedDeliveries, result.check.acked * 3, 'two receiver devices and one carbon each');
    assert.equal(result.passed, true);
  });

  it('stays at zero losses, duplicates and order violations with churn and injected disconnects', async () => {
    server = await startTestServer();
    const result = await run(server.port, { churnShare: 0.3, offlineSeconds: 1, disconnectsPerDevicePerMinute: 20, durationSeconds: 4 });
    assert.ok(result.counters.disconnects > 0, 'the scenario dropped connections');
    assert.ok(result.counters.reconnects > 0, 'devices came back');
    assert.deepEqual([result.check.losses, result.check.duplicates, result.check.orderViolations, result.check.misdelivered], [0, 0, 0, 0]);
    assert.equal(result.passed, true);
  });

  it('runs live rooms: every reliable room message at every device of its room that stays, once, in seq order, with disconnects and churn', async () => {
    server = await startTestServer();
    const result = await run(server.port, { roomSize: 8, roomReliableShare: 0.3, disconnectsPerDevicePerMinute: 20, churnShare: 0.2, offlineSeconds: 1, durationSeconds: 3 });
    assert.ok(result.check.acked > 10, `only ${result.check.acked} reliable messages acked`);
    // Eight users with two devices each per room; the six devices that go offline for a while are not expected.
    assert.ok(result.check.expectedDeliveries <= result.check.acked * 16 && result.check.expectedDeliveries >= result.check.acked * 10, `${result.check.expectedDeliveries} expected for ${result.check.acked}`);
    assert.ok(result.counters.roomOrdinary > 0, 'ordinary room messages arrived too');
    assert.ok(result.counters.disconnects > 0, 'the scenario dropped connections');
    assert.deepEqual([result.check.losses, result.check.duplicates, result.check.orderViolations, result.check.misdelivered], [0, 0, 0, 0]);
    assert.equal(result.passed, true);
  });

  it('runs live rooms with a quarter of each room reading slowly: the slow devices are counted and stalled, and every reliable message still reaches every device that stays, once, in seq order', async () => {
    server = await startTestServer();
    const result = await run(server.port, { roomSize: 8, roomReliableShare: 0.3, roomSlowShare: 0.25, roomStallMs: 700, durationSeconds: 3 });
    // Two rooms of eight users with two devices each: four slow devices per room.
    assert.equal(result.counters.roomSlowDevices, 8);
    assert.ok(result.counters.roomStalls >= 8 * 2, `${result.counters.roomStalls} stalls in 3 s of 0.7 s stalls and 1 s reads`);
    assert.ok(result.check.acked > 10, `only ${result.check.acked} reliable messages acked`);
    // Slow devices do not send, and are expected like the others: 16 devices per room.
    assert.equal(result.check.expectedDeliveries, result.check.acked * 16);
    assert.equal(result.counters.roomRejoins, result.counters.roomRemoved, 'a removed device joined again');
    assert.deepEqual([result.check.losses, result.check.duplicates, result.check.orderViolations, result.check.misdelivered], [0, 0, 0, 0]);
    assert.equal(result.passed, true);
  });

  it('catches a server that acknowledges messages it then loses', async () => {
    server = await startTestServer({ decorateStores: losingEvery(7) });
    const result = await run(server.port, {});
    assert.ok(result.check.losses > 0, 'the checker saw the lost messages');
    assert.equal(result.passed, false);
  });
});
