import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { OfflineMessage } from '../../server/logic/logic.ts';
import { Webhook, type WebhookOptions } from '../../server/ops/webhook.ts';
import { useInProcessServer, useSpawnedServer } from '../support/fixtures.ts';
import { replyOf } from '../support/group-calls.ts';
import { RawDevice } from '../support/raw-device.ts';
import { waitUntil } from '../support/server.ts';

const SECRET = 'webhook-secret';

interface Received {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A local HTTP receiver that answers the statuses of `script` in turn, then 200. */
async function receiver(script: number[] = []): Promise<{ url: string; received: Received[]; server: Server; hold: (on: boolean) => void }> {
  const received: Received[] = [];
  let holding = false;
  const held: Array<() => void> = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      const answer = () => {
        response.writeHead(script.shift() ?? 200);
        response.end();
      };
      if (holding) held.push(answer);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/offline`,
    received,
    server,
    hold(on) {
      holding = on;
      if (!on) for (const go of held.splice(0)) go();
    },
  };
}

function verify(r: Received): boolean {
  const timestamp = String(r.headers['x-tern-timestamp']);
  const expected = `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${r.body}`).digest('hex')}`;
  return r.headers['x-tern-signature'] === expected;
}

function options(url: string, overrides: Partial<WebhookOptions> = {}): WebhookOptions {
  return { url, secret: SECRET, maxQueue: 100, maxAttempts: 5, backoffMs: 5, maxBackoffMs: 20, timeoutMs: 2_000, concurrency: 2, clock: { now: () => Date.now() }, onError: () => undefined, ...overrides };
}

function event(n: number): OfflineMessage {
  return { userId: 'bob', message: { messageId: `m${n}`, conversationId: 'p:alice:bob', seq: n, from: 'alice', to: 'bob', kind: 1, content: `hello ${n}`, sentAt: 1, clientMsgId: `c${n}` } };
}

describe('the offline-push webhook', function () {
  this.timeout(20_000);
  const servers: Server[] = [];
  const local = useInProcessServer();

  afterEach(() => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      s.close();
    }
  });

  it('posts a signed event for a message to a user with no online device, and none when the user is online', async () => {
    const hook = await receiver();
    servers.push(hook.server);
    const webhook = new Webhook(options(hook.url));
    const node = await local.start({ offline: (e) => webhook.offlineMessage(e) });
    const alice = await local.device('alice');
    const bob = await local.device('bob');
    let acks = 0;
    alice.send('online-1', 'bob', 'while bob is online', () => acks++);
    await waitUntil(() => acks === 1, 'first ack');
    bob.close();
    await waitUntil(() => node.logic.admin.online().users === 1, 'bob is offline');
    alice.send('offline-1', 'bob', 'while bob is away', () => acks++);
    await waitUntil(() => hook.received.length === 1 && acks === 2, 'one webhook call');
    const [call] = hook.received;
    assert.ok(verify(call!), 'the signature checks with the shared secret');
    const body = JSON.parse(call!.body) as { type: string; userId: string; message: { from: string; preview: string; seq: number } };
    assert.equal(body.type, 'offlineMessage');
    assert.equal(body.userId, 'bob');
    assert.equal(body.message.from, 'alice');
    assert.equal(body.message.preview, 'while bob is away');
    await waitUntil(() => webhook.stats.delivered === 1, 'the delivery is counted');
    assert.equal(webhook.stats.enqueued, 1, 'no event for the message bob was online for, nor for alice\'s carbon');
    webhook.close();
  });

  it('retries a failed delivery with the same delivery id and signature scheme until it succeeds', async () => {
    const hook = await receiver([500, 503]);
    servers.push(hook.server);
    const webhook = new Webhook(options(hook.url));
    webhook.offlineMessage(event(1));
    await waitUntil(() => webhook.stats.delivered === 1, 'delivered on the third attempt');
    assert.equal(hook.received.length, 3);
    assert.equal(webhook.stats.retries, 2);
    assert.equal(new Set(hook.received.map((r) => r.headers['x-tern-delivery'])).size, 1, 'one delivery id across attempts');
    assert.ok(hook.received.every(verify));
    webhook.close();
  });

  it('gives up after maxAttempts, and does not retry a 4xx refusal', async () => {
    const hook = await receiver([500, 500, 500, 400]);
    servers.push(hook.server);
    const webhook = new Webhook(options(hook.url, { maxAttempts: 3 }));
    webhook.offlineMessage(event(1));
    await waitUntil(() => webhook.stats.failed === 1, 'failed after three attempts');
    assert.equal(hook.received.length, 3);
    webhook.offlineMessage(event(2));
    await waitUntil(() => webhook.stats.failed === 2, 'refused with 400');
    assert.equal(hook.received.length, 4, 'a 400 is not retried');
    webhook.close();
  });

  it('holds at most maxQueue events: the oldest waiting ones are dropped and counted', async () => {
    const hook = await receiver();
    servers.push(hook.server);
    hook.hold(true);
    const webhook = new Webhook(options(hook.url, { maxQueue: 5, concurrency: 1 }));
    for (let i = 1; i <= 20; i++) webhook.offlineMessage(event(i));
    assert.equal(webhook.stats.dropped, 15);
    await waitUntil(() => hook.received.length === 1, 'the first request is in flight');
    hook.hold(false);
    await waitUntil(() => webhook.stats.delivered === 5, 'the five held events are delivered');
    const seqs = hook.received.map((r) => (JSON.parse(r.body) as { message: { seq: number } }).message.seq);
    assert.deepEqual(seqs, [1, 17, 18, 19, 20], 'the one in flight and the newest four');
    webhook.close();
  });

  describe('after-send events, in the server process', () => {
    const spawned = useSpawnedServer('after-send');

    /** alice and bob online (so no offline event), one 1:1 message and one group post; then every send answered. */
    async function traffic(): Promise<{ alice: RawDevice; bob: RawDevice }> {
      const alice = await spawned.device('alice');
      const bob = await spawned.device('bob');
      let acks = 0;
      alice.send('d1', 'bob', 'direct hello', () => acks++);
      await waitUntil(() => acks === 1, 'the 1:1 ack');
      const { groupId } = replyOf(await alice.call('groupCreate', { name: 'team', members: ['bob'] }), 'groupInfo');
      replyOf(await bob.call('groupSend', { groupId, clientMsgId: 'g1', kind: 1, content: 'group hello' }), 'sendAck');
      // A resend of a stored post is no new message.
      replyOf(await bob.call('groupSend', { groupId, clientMsgId: 'g1', kind: 1, content: 'group hello' }), 'sendAck');
      return { alice, bob };
    }

    it('posts a signed messageSent event per stored message, 1:1 and group, retried like the offline events', async () => {
      const hook = await receiver([503]);
      servers.push(hook.server);
      await spawned.start(['--workers', '1', '--webhook-url', hook.url, '--webhook-secret', SECRET, '--webhook-after-send']);
      await traffic();
      // Two events, the first answered 503 once and retried.
      await waitUntil(() => new Set(hook.received.map((r) => r.headers['x-tern-delivery'])).size === 2 && hook.received.length === 3, 'two events, one retried');
      assert.ok(hook.received.every(verify), 'every attempt is signed');
      const events = [...new Map(hook.received.map((r) => [r.headers['x-tern-delivery'], JSON.parse(r.body) as { type: string; message: { from: string; to: string; preview: string; conversationId: string } }])).values()];
      assert.deepEqual(events.map((e) => e.type), ['messageSent', 'messageSent']);
      assert.deepEqual(events.map((e) => [e.message.from, e.message.preview]).sort(), [['alice', 'direct hello'], ['bob', 'group hello']]);
      assert.ok(events.some((e) => e.message.conversationId.startsWith('g:')), 'the group post has its group conversation');
    });

    it('posts none when not asked for: the offline-push events only', async () => {
      const hook = await receiver();
      servers.push(hook.server);
      await spawned.start(['--workers', '1', '--webhook-url', hook.url, '--webhook-secret', SECRET]);
      const { alice, bob } = await traffic();
      // Then one message to an offline user: its offline event shows the hook is live, and it comes alone.
      alice.close();
      bob.close();
      const carol = await spawned.device('carol');
      let acked = false;
      carol.send('o1', 'alice', 'are you there', () => (acked = true));
      await waitUntil(() => acked && hook.received.length >= 1, 'the offline event');
      assert.deepEqual(hook.received.map((r) => (JSON.parse(r.body) as { type: string }).type), ['offlineMessage']);
    });
  });
});
