/**
 * The SDK over two real nodes sharing Redis: it asks dispatch before connecting and lands on the
 * emptier node, and when that node drains it follows the goAway's alternative to the other one.
 */
import assert from 'node:assert/strict';
import { Client } from '../client/client.ts';
import { Platform, type BodyOf } from '../protocol/bodies.ts';
import { dispatch } from '../client/dispatch.ts';
import { adminUrl, call } from '../spec/support/admin.ts';
import { freePort, spawnServer, stopProcess, type ServerProcess } from '../spec/support/process.ts';
import { waitUntil } from '../spec/support/server.ts';
import { cassandraAt, deleteKeys, redisAt, uniqueName, useServices } from './support/services.ts';

const TOKEN = 'integration-admin-token';

describe('the SDK with dispatch and goAway across nodes', function () {
  this.timeout(90_000);
  const keyspace = uniqueName('tern_test_');
  const keyPrefix = uniqueName('tern-test:');
  const servers: ServerProcess[] = [];
  const clients: Client[] = [];

  after(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(servers.splice(0).map((server) => stopProcess(server.child, 'SIGKILL')));
    await deleteKeys(services.admin(), keyPrefix);
  });
  const services = useServices(keyspace);

  async function node(nodeId: string): Promise<{ port: number; base: string; admin: string; server: ServerProcess }> {
    const port = await freePort();
    const args = ['--workers', '1', '--scrypt-cost', '1024', '--store', 'production', '--redis-url', `redis://${redisAt.host}:${redisAt.port}`, '--cassandra', `${cassandraAt.host}:${cassandraAt.port}`];
    args.push('--keyspace', keyspace, '--key-prefix', keyPrefix, '--node-id', nodeId, '--dispatch-port', '0', '--dispatch-host', '127.0.0.1', '--public-host', '127.0.0.1');
    args.push('--admin-token', TOKEN, '--drain-spread-ms', '1', '--drain-grace-ms', '2000');
    const server = await spawnServer(args, port, 60_000);
    servers.push(server);
    const base = /dispatch (http:\/\/[^/\s]+)\/dispatch/.exec(server.output())?.[1];
    assert.ok(base);
    return { port, base, admin: adminUrl(server), server };
  }

  async function nodeOf(admin: string, userId: string): Promise<string[]> {
    const { devices: listed } = (await call(`${admin}/admin/users/${userId}/devices`, { token: TOKEN })).body as { devices: Array<{ node: string }> };
    return listed.map((d) => d.node);
  }

  it('connects where dispatch says, and reconnects to the goAway alternative when that node drains', async () => {
    const nodes = { a: await node('a'), b: await node('b') };
    // Both nodes publish every 2 s: wait (bounded) until a's dispatch offers both.
    let offered = 0;
    for (let i = 0; i < 40 && offered < 2; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 250));
      offered = (await dispatch(nodes.a.base, 'probe')).length;
    }
    assert.equal(offered, 2, 'both nodes are on the board');

    // Nothing listens on carol's configured address: only dispatch can put her on a node.
    const nowhere = { host: '127.0.0.1', port: await freePort() };
    const carol = new Client({ endpoint: nowhere, dispatchUrl: nodes.a.base, userId: 'carol', deviceId: 'carol-phone', platform: Platform.ios, password: 'pw', register: true, reconnect: { baseMs: 50, maxMs: 200 } });
    clients.push(carol);
    const goAways: BodyOf<'goAway'>[] = [];
    carol.on('goAway', (g) => goAways.push(g));
    await carol.connect();
    const [on] = await nodeOf(nodes.a.admin, 'carol');
    assert.ok(on === 'a' || on === 'b', `carol is on a node dispatch named (${on})`);
    const [drained, other] = on === 'a' ? [nodes.a, nodes.b] : [nodes.b, nodes.a];

    let readyAgain = 0;
    carol.on('ready', () => readyAgain++);
    const exited = new Promise((resolve) => drained.server.child.once('exit', resolve));
    drained.server.child.kill('SIGTERM');
    await waitUntil(() => goAways.length === 1, 'goAway from the draining node');
    assert.deepEqual(goAways[0]!.alternatives?.map((e) => e.port), [other.port]);
    await exited;
    await waitUntil(() => readyAgain >= 1 && carol.status === 'ready', 'carol reconnects', 30_000);
    assert.deepEqual(await nodeOf(other.admin, 'carol'), [on === 'a' ? 'b' : 'a'], 'carol followed the alternative to the other node');
  });
});
