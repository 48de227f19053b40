/**
 * Several server nodes, each a real process with its own port, sharing one Redis and one
 * Cassandra: users connected to different nodes talk to each other, and the users of a node that
 * dies reconnect to another one and lose nothing.
 */
import assert from 'node:assert/strict';
import { Client } from '../client/client.ts';
import type { Endpoint } from '../client/transport.ts';
import { Bodies, KickReason, Platform, type BodyOf, type MessageRecord } from '../protocol/bodies.ts';
import { readBody } from '../codec/index.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { RawDevice } from '../spec/support/raw-device.ts';
import { freePort, spawnServer, stopProcess, type ServerProcess } from '../spec/support/process.ts';
import { waitUntil } from '../spec/support/server.ts';
import { cassandraAt, deleteKeys, redisAt, uniqueName, useServices } from './support/services.ts';

function endpoint(port: number): Endpoint {
  return { host: '127.0.0.1', port };
}

describe('many nodes sharing Redis and Cassandra', function () {
  this.timeout(90_000);
  const keyspace = uniqueName('tern_test_');
  let keyPrefix: string;
  let tenant: string;
  const servers: ServerProcess[] = [];
  const clients: Client[] = [];

  // Redis and the keyspace are checked and made once, before the suite; each test works under a prefix of its own.
  const services = useServices(keyspace);
  beforeEach(() => {
    keyPrefix = uniqueName('tern-test:');
    tenant = uniqueName('t');
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(servers.splice(0).map((server) => stopProcess(server.child, 'SIGKILL')));
    await deleteKeys(services.admin(), keyPrefix);
  });

  async function startNode(nodeId: string): Promise<ServerProcess> {
    const port = await freePort();
    const server = await spawnServer(
      [
        '--workers', '1',
        '--scrypt-cost', '1024',
        '--store', 'production',
        '--redis-url', `redis://${redisAt.host}:${redisAt.port}`,
        '--cassandra', `${cassandraAt.host}:${cassandraAt.port}`,
        '--keyspace', keyspace,
        '--tenant', tenant,
        '--key-prefix', keyPrefix,
        '--node-id', nodeId,
      ],
      port,
    );
    servers.push(server);
    return server;
  }

  function client(userId: string, at: ServerProcess, alternates: ServerProcess[] = [], deviceId = `${userId}-phone`, register = true): Client {
    const c = new Client({
      endpoint: endpoint(at.port),
      alternateEndpoints: alternates.map((server) => endpoint(server.port)),
      userId,
      deviceId,
      platform: Platform.android,
      password: `pw-${userId}`,
      register,
      reconnect: { baseMs: 50, maxMs: 300 },
    });
    clients.push(c);
    return c;
  }

  function inbox(c: Client): MessageRecord[] {
    const received: MessageRecord[] = [];
    c.on('message', (message) => received.push(message));
    return received;
  }

  it('delivers 1:1 messages both ways between users on different nodes', async () => {
    const [a, b] = [await startNode('a'), await startNode('b')];
    const alice = client('alice', a);
    const bob = client('bob', b);
    const [toAlice, toBob] = [inbox(alice), inbox(bob)];
    await alice.connect();
    await bob.connect();

    for (let i = 0; i < 5; i++) {
      await alice.send('bob', `a${i}`);
      await bob.send('alice', `b${i}`);
    }
    await waitUntil(() => toAlice.length === 5 && toBob.length === 5, 'five messages at each user');
    assert.deepEqual(
      toBob.map((m) => m.content),
      ['a0', 'a1', 'a2', 'a3', 'a4'],
    );
    assert.deepEqual(
      toAlice.map((m) => m.content),
      ['b0', 'b1', 'b2', 'b3', 'b4'],
    );
    assert.ok(toBob.every((m) => m.from === 'alice') && toAlice.every((m) => m.from === 'bob'));

    // The online registry says where bob is while he is connected, and forgets him when he leaves.
    const registry = `${keyPrefix}online:{bob}`;
    const entry = JSON.parse((await services.admin().hget(registry, 'bob-phone')) ?? '{}') as { n?: string; e?: number };
    assert.equal(entry.n, 'b');
    assert.ok((entry.e ?? 0) > Date.now());
    bob.close();
    const deadline = Date.now() + 5_000;
    while ((await services.admin().hexists(registry, 'bob-phone')) === 1) {
      assert.ok(Date.now() < deadline, 'bob still in the online registry after he closed');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  it('kicks the older login of the same platform when the new one is on another node', async () => {
    const [a, b] = [await startNode('a'), await startNode('b')];
    const first = client('alice', a);
    const kicks: BodyOf<'kick'>[] = [];
    first.on('kicked', (kick) => kicks.push(kick));
    await first.connect();
    const second = client('alice', b, [], 'alice-new-phone', false);
    const received = inbox(second);
    await second.connect();
    await waitUntil(() => kicks.length === 1, 'the older phone kicked');
    assert.equal(kicks[0]!.reason, KickReason.replacedBySamePlatform);

    // Messages to alice now reach the new phone only, on node B.
    const bob = client('bob', a);
    await bob.connect();
    await bob.send('alice', 'to the new phone');
    await waitUntil(() => received.length === 1, 'the message at the new phone');
    assert.equal(received[0]!.content, 'to the new phone');
  });

  it('moves the users of a killed node to another node without losing or repeating a message', async () => {
    const [a, b] = [await startNode('a'), await startNode('b')];
    const alice = client('alice', a);
    const bob = client('bob', b, [a]);
    const toBob = inbox(bob);
    await alice.connect();
    await bob.connect();

    const acked: string[] = [];
    const sending = (async () => {
      for (let i = 0; i < 300; i++) {
        const content = `n${i}`;
        await alice.send('bob', content);
        acked.push(content);
      }
    })();
    await waitUntil(() => acked.length >= 50, 'some messages acknowledged before the kill', 20_000);
    await stopProcess(b.child, 'SIGKILL');
    await sending;

    await waitUntil(() => toBob.length >= acked.length, `all ${acked.length} acknowledged messages at bob after the move`, 30_000);
    const counts = new Map<string, number>();
    for (const message of toBob) counts.set(message.content, (counts.get(message.content) ?? 0) + 1);
    for (const content of acked) assert.equal(counts.get(content), 1, `${content} received ${counts.get(content) ?? 0} times`);
    assert.equal(toBob.length, acked.length);
    assert.equal(bob.status, 'ready');
  });

  it('delivers a group’s posts in seq order to members on other nodes, and stops at once for a removed member', async () => {
    const [a, b, c] = [await startNode('a'), await startNode('b'), await startNode('c')];
    const owner = client('owner', a);
    const onB = client('bea', b);
    const onC = client('cid', c);
    const removed = client('rem', c);
    await Promise.all([owner, onB, onC, removed].map((x) => x.connect()));
    const group = await owner.groups.create('nodes', ['bea', 'cid', 'rem']);
    const received = new Map<Client, MessageRecord[]>([[onB, []], [onC, []], [removed, []]]);
    for (const [member, list] of received) member.on('message', (m) => m.kind === 1 && list.push(m));
    const first = await Promise.all(Array.from({ length: 20 }, (_, i) => owner.sendToGroup(group.groupId, `first ${i}`)));
    await waitUntil(() => [...received.values()].every((list) => list.length === 20), 'every member gets the first 20 posts', 20_000);
    for (const [, list] of received) assert.deepEqual(list.map((m) => m.seq), first.map((ack) => ack.seq).sort((x, y) => x - y), 'in seq order');
    await owner.groups.remove(group.groupId, 'rem');
    await Promise.all(Array.from({ length: 20 }, (_, i) => owner.sendToGroup(group.groupId, `second ${i}`)));
    await waitUntil(() => received.get(onB)?.length === 40 && received.get(onC)?.length === 40, 'the remaining members get the next 20', 20_000);
    assert.equal(received.get(removed)?.length, 20, 'nothing after the removal reaches the removed member on another node');
  });

  it('stores a resend that reaches two nodes at once only once (200 times)', async () => {
    const [a, b] = [await startNode('a'), await startNode('b')];
    const onA = await RawDevice.open(a.port, 'alice', { register: true, deviceId: 'alice-1', platform: Platform.ios });
    const onB = await RawDevice.open(b.port, 'alice', { register: false, deviceId: 'alice-2', platform: Platform.android });
    const bob = await RawDevice.open(a.port, 'bob', { register: true });
    const devices = [onA, onB, bob];
    try {
      const sendUntilAcked = async (device: RawDevice, clientMsgId: string): Promise<BodyOf<'sendAck'>> => {
        for (let attempt = 0; attempt < 50; attempt++) {
          const result = await new Promise<{ ack?: BodyOf<'sendAck'>; code?: number }>((resolve) => device.send(clientMsgId, 'bob', clientMsgId, (ack, code) => resolve(ack ? { ack } : { code: code ?? -1 })));
          if (result.ack) return result.ack;
          assert.equal(result.code, ErrorCode.internal, 'a racing resend is refused with 5001 only');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        throw new Error(`${clientMsgId} was never acknowledged`);
      };
      for (let i = 0; i < 200; i++) {
        const [first, second] = await Promise.all([sendUntilAcked(onA, `dup${i}`), sendUntilAcked(onB, `dup${i}`)]);
        assert.deepEqual([second.messageId, second.seq], [first.messageId, first.seq], `dup${i}: both nodes answer with the one stored message`);
      }
      const stored = new Set<string>();
      let beforeSeq: number | undefined;
      for (let page = 0; page < 50; page++) {
        const reply = await bob.call('history', { conversationId: 'p:alice:bob', limit: 100, ...(beforeSeq ? { beforeSeq } : {}) });
        const { messages, hasMore } = readBody(reply, Bodies.historyPage);
        for (const m of messages) stored.add(m.clientMsgId);
        beforeSeq = messages.at(-1)?.seq;
        if (!hasMore || beforeSeq === undefined) break;
      }
      assert.equal(stored.size, 200);
    } finally {
      for (const d of devices) d.close();
    }
  });
});
