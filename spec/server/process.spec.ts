import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../client/client.ts';
import type { MessageRecord } from '../../protocol/bodies.ts';
import { Platform } from '../../protocol/bodies.ts';
import { openEmbeddedStore } from '../../storage/embedded/embedded-store.ts';
import { freePort, spawnServer, stopProcess, type ServerProcess } from '../support/process.ts';
import { waitUntil } from '../support/server.ts';

function client(port: number, userId: string, register = true): Client {
  return new Client({
    endpoint: { host: '127.0.0.1', port },
    userId,
    deviceId: `${userId}-phone`,
    platform: Platform.android,
    password: `pw-${userId}`,
    register,
    reconnect: { baseMs: 50, maxMs: 300 },
  });
}

describe('the server as a real process', function () {
  this.timeout(60_000);
  let dataDir: string;
  let server: ServerProcess | undefined;
  const clients: Client[] = [];

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'tern-proc-'));
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    if (server) await stopProcess(server.child, 'SIGKILL');
    server = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers between clients served by different gateway workers of one node', async () => {
    const port = await freePort();
    server = await spawnServer(['--workers', '2', '--data-dir', dataDir], port);
    const users = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'].map((u) => client(port, u));
    clients.push(...users);
    await Promise.all(users.map((u) => u.connect()));
    const received = new Map<string, MessageRecord[]>(users.map((u, i) => [`u${i}`, []]));
    users.forEach((u, i) => u.on('message', (m) => received.get(`u${i}`)!.push(m)));
    for (let i = 0; i < users.length; i++) await users[i]!.send(`u${(i + 1) % users.length}`, `from u${i}`);
    await waitUntil(() => [...received.values()].every((list) => list.length === 1), 'one message at every user');
    for (let i = 0; i < users.length; i++) assert.equal(received.get(`u${i}`)![0]!.from, `u${(i + users.length - 1) % users.length}`);
  });

  it('delivers group posts in seq order to members spread over two gateway workers', async () => {
    const port = await freePort();
    server = await spawnServer(['--workers', '2', '--data-dir', dataDir], port);
    const users = ['g0', 'g1', 'g2', 'g3', 'g4'].map((u) => client(port, u));
    clients.push(...users);
    await Promise.all(users.map((u) => u.connect()));
    const [owner, ...members] = users as [Client, ...Client[]];
    const group = await owner.groups.create('workers', ['g1', 'g2', 'g3', 'g4']);
    const received = new Map<Client, number[]>(members.map((m) => [m, []]));
    for (const [m, seqs] of received) m.on('message', (message) => message.kind === 1 && seqs.push(message.seq));
    const acks = await Promise.all(Array.from({ length: 30 }, (_, i) => owner.sendToGroup(group.groupId, `post ${i}`)));
    const expected = acks.map((ack) => ack.seq).sort((a, b) => a - b);
    await waitUntil(() => [...received.values()].every((seqs) => seqs.length === 30), 'every post at every member', 20_000);
    for (const seqs of received.values()) assert.deepEqual(seqs, expected);
  });

  it('keeps every acknowledged message and never reuses a seq after SIGKILL', async () => {
    const port = await freePort();
    server = await spawnServer(['--workers', '1', '--data-dir', dataDir], port);
    const alice = client(port, 'alice');
    const bob = client(port, 'bob');
    clients.push(alice, bob);
    await Promise.all([alice.connect(), bob.connect()]);
    const acked: number[] = [];
    let stop = false;
    const sending = (async () => {
      for (let i = 0; i < 2_000 && !stop; i++) {
        const ack = await alice.send('bob', `n${i}`).catch(() => undefined);
        if (ack) acked.push(ack.seq);
      }
    })();
    await waitUntil(() => acked.length >= 50, 'some acknowledged messages', 20_000);
    await stopProcess(server.child, 'SIGKILL');
    stop = true;
    alice.close();
    bob.close();
    await sending;

    const store = openEmbeddedStore({ path: dataDir });
    const page = await store.history.page('p:alice:bob', undefined, 1000);
    const stored = new Set(page.messages.map((m) => m.seq));
    for (const seq of acked) assert.ok(stored.has(seq), `acknowledged seq ${seq} was lost`);
    await store.close();

    server = await spawnServer(['--workers', '1', '--data-dir', dataDir], port);
    const alice2 = client(port, 'alice', false);
    clients.push(alice2);
    await alice2.connect();
    const after = await alice2.send('bob', 'after the crash');
    assert.ok(after.seq > Math.max(...stored), `seq ${after.seq} reuses one of ${Math.max(...stored)}`);
  });
});
