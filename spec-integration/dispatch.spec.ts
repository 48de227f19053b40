/**
 * Dispatch across two nodes sharing Redis: each publishes its load; both answer the emptier node
 * first.
 */
import assert from 'node:assert/strict';
import { dispatch } from '../client/dispatch.ts';
import { readBody } from '../codec/index.ts';
import { Bodies, type BodyOf } from '../protocol/bodies.ts';
import { Opcode } from '../protocol/opcodes.ts';
import { freePort, spawnServer, stopProcess, type ServerProcess } from '../spec/support/process.ts';
import { RawDevice } from '../spec/support/raw-device.ts';
import { cassandraAt, deleteKeys, redisAt, uniqueName, useServices } from './support/services.ts';

describe('dispatch across nodes sharing Redis', function () {
  this.timeout(90_000);
  const keyspace = uniqueName('tern_test_');
  const keyPrefix = uniqueName('tern-test:');
  const servers: ServerProcess[] = [];
  const devices: RawDevice[] = [];

  // Before useServices' own hooks, which close the admin connection this one uses.
  after(async () => {
    for (const d of devices.splice(0)) d.close();
    await Promise.all(servers.splice(0).map((server) => stopProcess(server.child, 'SIGKILL')));
    await deleteKeys(services.admin(), keyPrefix);
  });
  const services = useServices(keyspace);

  async function node(nodeId: string): Promise<{ port: number; base: string }> {
    const port = await freePort();
    const args = ['--workers', '1', '--scrypt-cost', '1024', '--store', 'production', '--redis-url', `redis://${redisAt.host}:${redisAt.port}`, '--cassandra', `${cassandraAt.host}:${cassandraAt.port}`];
    args.push('--keyspace', keyspace, '--key-prefix', keyPrefix, '--node-id', nodeId, '--dispatch-port', '0', '--dispatch-host', '127.0.0.1', '--public-host', '127.0.0.1');
    const server = await spawnServer(args, port, 60_000);
    servers.push(server);
    const base = /dispatch (http:\/\/[^/\s]+)\/dispatch/.exec(server.output())?.[1];
    assert.ok(base);
    return { port, base };
  }

  it('prefers the emptier of two nodes, from either node', async () => {
    const a = await node('a');
    for (let i = 0; i < 4; i++) devices.push(await RawDevice.register(a.port, `u${i}`));
    const b = await node('b');
    // Each node publishes every 2 s: wait (bounded) until both answers put b first.
    let first: number[] = [];
    for (let i = 0; i < 40 && !(first[0] === b.port && first[1] === b.port); i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 250));
      first = [(await dispatch(a.base, 'x'))[0]?.port ?? 0, (await dispatch(b.base, 'y'))[0]?.port ?? 0];
    }
    assert.deepEqual(first, [b.port, b.port], 'both nodes send new clients to b, the emptier');
    const both = await dispatch(a.base, 'z');
    assert.deepEqual(new Set(both.map((e) => e.port)), new Set([a.port, b.port]), 'a is still offered, second');

    // Draining a sends its clients to b, and takes a off the board.
    const goAways: BodyOf<'goAway'>[] = [];
    devices[0]!.onOther = (frame) => frame.opcode === Opcode.goAway && goAways.push(readBody(frame, Bodies.goAway));
    const exited = new Promise((resolve) => servers[0]!.child.once('exit', resolve));
    servers[0]!.child.kill('SIGTERM');
    await exited;
    assert.equal(goAways.length, 1);
    assert.deepEqual(goAways[0]!.alternatives?.map((e) => e.port), [b.port], 'the other node as the alternative');
    assert.deepEqual((await dispatch(b.base, 'w')).map((e) => e.port), [b.port], 'a left the board');
  });
});
