import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedStore } from '../../storage/embedded/embedded-store.ts';
import { freePort, spawnServer, stopProcess } from '../support/process.ts';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('the embedded data directory', function () {
  this.timeout(30_000);
  let parent: string;
  beforeEach(() => {
    parent = mkdtempSync(join(tmpdir(), 'tern-datadir-'));
  });
  afterEach(() => rmSync(parent, { recursive: true, force: true }));

  it('opens an existing empty directory whose name has dots, and keeps the data in it', async () => {
    const dir = join(parent, 'tmp.a1b2.c3');
    mkdirSync(dir);
    for (let round = 0; round < 2; round++) {
      const stores = openEmbeddedStore({ path: dir });
      if (round === 0) assert.equal(await stores.accounts.create({ userId: 'ann', salt: 's', passwordHash: 'h', createdAt: 1 }), true);
      else assert.equal((await stores.accounts.get('ann'))?.passwordHash, 'h', 'reopened from the same directory');
      await stores.durable();
      await stores.close();
    }
    assert.equal(mode(join(dir, 'data.mdb')), 0o600);
  });

  it('makes the directory 0700 and its files 0600, also when they were created wider', async () => {
    const fresh = join(parent, 'fresh');
    const stores = openEmbeddedStore({ path: fresh });
    await stores.close();
    assert.deepEqual([mode(fresh), mode(join(fresh, 'data.mdb')), mode(join(fresh, 'lock.mdb'))], [0o700, 0o600, 0o600]);
    chmodSync(fresh, 0o755);
    chmodSync(join(fresh, 'data.mdb'), 0o644);
    const again = openEmbeddedStore({ path: fresh });
    await again.close();
    assert.deepEqual([mode(fresh), mode(join(fresh, 'data.mdb'))], [0o700, 0o600]);
  });

  it('starts the server with --data-dir naming an existing empty directory like mktemp -d makes', async () => {
    const dir = join(parent, 'tmp.XyZ12');
    mkdirSync(dir, { mode: 0o755 });
    const port = await freePort();
    const server = await spawnServer(['--workers', '1', '--data-dir', dir], port);
    try {
      assert.deepEqual([mode(dir), mode(join(dir, 'data.mdb'))], [0o700, 0o600]);
    } finally {
      await stopProcess(server.child);
    }
  });
});
