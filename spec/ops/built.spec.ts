import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../client/client.ts';
import { Platform, type MessageRecord } from '../../protocol/bodies.ts';
import { buildOnce } from '../support/build.ts';
import { freePort, spawnBuiltServer, stopProcess, type ServerProcess } from '../support/process.ts';
import { waitUntil } from '../support/server.ts';

function jsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return jsFiles(path);
    return path.endsWith('.js') ? [path] : [];
  });
}

describe('the built server in dist/', function () {
  this.timeout(120_000);
  let dataDir: string;
  let server: ServerProcess | undefined;
  const clients: Client[] = [];

  before(() => buildOnce());
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'tern-built-'));
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    if (server) await stopProcess(server.child, 'SIGKILL');
    server = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('imports only JavaScript: no relative import in dist/ names a .ts file', () => {
    const files = jsFiles('dist');
    assert.ok(files.some((file) => file.endsWith(join('server', 'main.js'))), 'dist/server/main.js is built');
    for (const file of files) {
      const source = readFileSync(file, 'utf8');
      assert.doesNotMatch(source, /from\s+["']\.{1,2}\/[^"']*\.ts["']/, `${file} imports a .ts file`);
      // The load generator forks its workers through tsx only when it runs from source.
      if (!file.startsWith(join('dist', 'loadgen'))) assert.doesNotMatch(source, /["']tsx["']/, `${file} loads tsx`);
    }
  });

  for (const workers of [1, 2]) {
    it(`registers two users, delivers a message between them and drains on SIGTERM, run by plain node (--workers ${workers})`, async () => {
      const port = await freePort();
      server = await spawnBuiltServer(['--workers', String(workers), '--data-dir', dataDir, '--scrypt-cost', '1024'], port);
      const make = (userId: string) =>
        new Client({ endpoint: { host: '127.0.0.1', port }, userId, deviceId: `${userId}-phone`, platform: Platform.android, password: `pw-${userId}`, register: true, reconnect: { baseMs: 50, maxMs: 300 } });
      const alice = make('alice');
      const bob = make('bob');
      clients.push(alice, bob);
      await Promise.all([alice.connect(), bob.connect()]);
      const received: MessageRecord[] = [];
      bob.on('message', (m) => received.push(m));
      const ack = await alice.send('bob', 'hello from the build');
      assert.ok(ack.seq > 0);
      await waitUntil(() => received.length === 1, 'bob receives the message');
      assert.equal(received[0]!.from, 'alice');
      const goAways: number[] = [];
      alice.on('goAway', (g) => goAways.push(g.reconnectAfterMs));
      const exited = new Promise<number | null>((resolve) => server!.child.once('exit', (code) => resolve(code)));
      server.child.kill('SIGTERM');
      assert.equal(await exited, 0, 'exit code 0 after the drain');
      assert.equal(goAways.length, 1, 'alice was told to go away');
      server = undefined;
    });
  }
});
