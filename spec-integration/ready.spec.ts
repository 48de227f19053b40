/**
 * /ready of a production node follows its stores: it turns 503 when the node's Redis stops, or
 * its Cassandra becomes unreachable, and 200 again when the store is back, while /health stays
 * 200 throughout.
 */
import assert from 'node:assert/strict';
import { adminUrl, call } from '../spec/support/admin.ts';
import { freePort, spawnServer, stopProcess, type ServerProcess } from '../spec/support/process.ts';
import { OwnRedis } from './support/redis-server.ts';
import { TcpGate } from './support/tcp-gate.ts';
import { cassandraAt, dropKeyspace, requireCassandra, requireRedis, uniqueName } from './support/services.ts';

/** Asks /ready up to `tries` times, 250 ms apart, until it answers `want`; returns the last status. */
async function readyUntil(base: string, want: number, tries = 40): Promise<number> {
  let status = 0;
  for (let i = 0; i < tries && status !== want; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 250));
    status = (await call(`${base}/ready`)).status;
  }
  return status;
}

describe('/ready of a node on Redis and Cassandra', function () {
  this.timeout(120_000);
  const keyspace = uniqueName('tern_test_');
  let created = false;
  let redis: OwnRedis | undefined;
  let server: ServerProcess | undefined;
  let gate: TcpGate | undefined;

  before(async () => {
    // The shared Redis is not touched: the node runs on a Redis of the test's own.
    await (await requireRedis()).quit();
    await (await requireCassandra(keyspace)).close();
    created = true;
    redis = await OwnRedis.start();
  });
  after(async () => {
    if (server) await stopProcess(server.child, 'SIGKILL');
    await redis?.stop();
    await gate?.close();
    if (created) await dropKeyspace(keyspace);
  });

  it('turns 503 when Redis stops and 200 when it is back', async () => {
    const port = await freePort();
    const args = ['--workers', '1', '--scrypt-cost', '1024', '--store', 'production', '--redis-url', `redis://127.0.0.1:${redis!.port}`];
    args.push('--cassandra', `${cassandraAt.host}:${cassandraAt.port}`, '--keyspace', keyspace, '--key-prefix', uniqueName('tern-test:'), '--tenant', uniqueName('t'));
    server = await spawnServer(args, port, 60_000);
    const base = adminUrl(server);
    assert.equal(await readyUntil(base, 200), 200, 'ready with both stores up');

    await redis!.pause();
    assert.equal(await readyUntil(base, 503), 503, 'not ready while Redis is down');
    assert.equal((await call(`${base}/health`)).status, 200, '/health is about the process only');

    await redis!.resume();
    assert.equal(await readyUntil(base, 200), 200, 'ready again once Redis is back');
  });

  it('turns 503 when Cassandra cannot be reached and 200 when it can again', async () => {
    if (server) await stopProcess(server.child, 'SIGKILL');
    server = undefined;
    // The shared Cassandra keeps running: the node reaches it through a gate the test closes.
    gate = await TcpGate.start(cassandraAt);
    const port = await freePort();
    const args = ['--workers', '1', '--scrypt-cost', '1024', '--store', 'production', '--redis-url', `redis://127.0.0.1:${redis!.port}`];
    args.push('--cassandra', `127.0.0.1:${gate.port}`, '--keyspace', keyspace, '--key-prefix', uniqueName('tern-test:'), '--tenant', uniqueName('t'));
    server = await spawnServer(args, port, 60_000);
    const base = adminUrl(server);
    assert.equal(await readyUntil(base, 200), 200, 'ready with both stores up');

    await gate.close();
    const down = await readyUntil(base, 503);
    assert.equal(down, 503, 'not ready while Cassandra is unreachable');
    assert.match(JSON.stringify((await call(`${base}/ready`)).body), /"ready":false/);
    assert.equal((await call(`${base}/health`)).status, 200);

    await gate.open();
    // The driver reconnects with a backoff from 1 s: up to 60 s of tries.
    assert.equal(await readyUntil(base, 200, 240), 200, 'ready again once Cassandra is reachable');
  });
});
