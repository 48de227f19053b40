/**
 * The admin API of one node acting on devices connected to another: two real server processes
 * sharing Redis and Cassandra, the kick and the token revocation sent through the node channels.
 */
import assert from 'node:assert/strict';
import { Client } from '../client/client.ts';
import { KickReason, Platform, type BodyOf } from '../protocol/bodies.ts';
import { ErrorCode } from '../protocol/errors.ts';
import { adminUrl, call } from '../spec/support/admin.ts';
import { freePort, spawnServer, stopProcess, type ServerProcess } from '../spec/support/process.ts';
import { waitUntil } from '../spec/support/server.ts';
import { cassandraAt, deleteKeys, redisAt, uniqueName, useServices } from './support/services.ts';

const TOKEN = 'integration-admin-token';

describe('the admin API across nodes', function () {
  this.timeout(90_000);
  const keyspace = uniqueName('tern_test_');
  let keyPrefix: string;
  let tenant: string;
  const servers: ServerProcess[] = [];
  const clients: Client[] = [];
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
        '--admin-token', TOKEN,
      ],
      port,
    );
    servers.push(server);
    return server;
  }

  function client(userId: string, at: ServerProcess, options: { token?: string } = {}): Client {
    const c = new Client({
      endpoint: { host: '127.0.0.1', port: at.port },
      userId,
      deviceId: `${userId}-phone`,
      platform: Platform.android,
      ...(options.token ? { token: options.token } : { password: `pw-${userId}`, register: true }),
      reconnect: false,
    });
    clients.push(c);
    return c;
  }

  it('kicks a device connected to another node, from this node\'s admin API', async () => {
    const a = await startNode('node-a');
    const b = await startNode('node-b');
    const bob = client('bob', b);
    await bob.connect();
    const kicks: BodyOf<'kick'>[] = [];
    bob.on('kicked', (kick) => kicks.push(kick));
    const listed = (await call(`${adminUrl(a)}/admin/users/bob/devices`, { token: TOKEN })).body as { devices: Array<{ node: string }> };
    assert.deepEqual(listed.devices.map((d) => d.node), ['node-b']);
    assert.deepEqual((await call(`${adminUrl(a)}/admin/users/bob/kick`, { method: 'POST', token: TOKEN, body: { message: 'maintenance' } })).body, { kicked: 1 });
    await waitUntil(() => kicks.length === 1, 'bob is kicked on node b');
    assert.deepEqual([kicks[0]!.reason, kicks[0]!.message], [KickReason.byAdmin, 'maintenance']);
  });

  it('revokes the token of a device connected to another node: kicked, and the token logs in on neither node', async () => {
    const a = await startNode('node-a');
    const b = await startNode('node-b');
    const carol = client('carol', b);
    await carol.connect();
    const token = carol.session!.token;
    const kicks: BodyOf<'kick'>[] = [];
    carol.on('kicked', (kick) => kicks.push(kick));
    const revoked = await call(`${adminUrl(a)}/admin/users/carol/revoke-tokens`, { method: 'POST', token: TOKEN });
    assert.deepEqual(revoked.body, { revoked: 1, kicked: 1 });
    await waitUntil(() => kicks.length === 1, 'carol is kicked on node b');
    assert.equal(kicks[0]!.reason, KickReason.tokenRevoked);
    // The node holding the connection revokes the token before it kicks, so it is gone by now.
    for (const node of [a, b]) {
      await assert.rejects(client('carol', node, { token }).connect(), (error: { code?: number }) => error.code === ErrorCode.badToken, `the token on ${node.port}`);
    }
  });
});
