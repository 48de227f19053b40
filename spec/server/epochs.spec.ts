/** Inbox positions carry an epoch (SPEC §11.2, §11.3): what the server says, and when it says reset. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transport } from '../../client/transport.ts';
import { readBody } from '../../codec/index.ts';
import { Bodies, type BodyOf, type EntryRecord } from '../../protocol/bodies.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import { startTestServer, waitUntil, type TestServer } from '../support/server.ts';

async function rawLogin(port: number, userId: string, deviceId: string): Promise<{ t: Transport; session: BodyOf<'session'> }> {
  const t = await Transport.open({ host: '127.0.0.1', port });
  await t.request(Opcode.hello, Bodies.hello, { version: 1, client: 'spec' }, Bodies.serverHello);
  const session = await t.request(Opcode.login, Bodies.login, { userId, deviceId, platform: 3, password: `pw-${userId}` }, Bodies.session);
  return { t, session };
}

describe('inbox epochs', function () {
  this.timeout(30_000);
  let server: TestServer;
  const dirs: string[] = [];
  afterEach(async () => {
    await server?.stop();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  async function withMessages(count: number): Promise<void> {
    const ann = server.client('ann');
    const ben = server.client('ben');
    await Promise.all([ann.connect(), ben.connect()]);
    for (let i = 0; i < count; i++) await ann.send('ben', `#${i}`);
    ben.close();
  }

  it('carries the inbox epoch in session, sendAck, push and every sync page, one epoch while the store keeps its state', async () => {
    server = await startTestServer();
    await withMessages(3);
    const { t, session } = await rawLogin(server.port, 'ben', 'ben-tablet');
    const { epoch } = await server.stores.inbox.position('ben');
    assert.match(epoch, /^[0-9a-f]{16}$/);
    assert.equal(session.epoch, epoch);
    assert.equal(session.version, 3);
    const pushes: EntryRecord[] = [];
    t.on('frame', (frame) => {
      if (frame.opcode === Opcode.push) pushes.push(readBody(frame, Bodies.push));
    });
    const page = await t.request(Opcode.sync, Bodies.sync, { sinceVersion: 1, epoch }, Bodies.syncPage);
    assert.deepEqual({ versions: page.entries.map((e) => e.version), epoch: page.epoch, reset: page.reset }, { versions: [2, 3], epoch, reset: undefined });
    const ann = server.client('ann', { register: false });
    await ann.connect();
    const ack = await ann.send('ben', 'live');
    assert.equal(ack.epoch, (await server.stores.inbox.position('ann')).epoch);
    await waitUntil(() => pushes.length === 1, 'the push');
    assert.deepEqual({ version: pushes[0]?.version, epoch: pushes[0]?.epoch }, { version: 4, epoch });
    t.close();
  });

  it('answers a sync from another epoch with a reset page: no entries, lastVersion 0, the current epoch and latest version, cursor 0', async () => {
    server = await startTestServer();
    await withMessages(5);
    const { t } = await rawLogin(server.port, 'ben', 'ben-tablet');
    await t.request(Opcode.sync, Bodies.sync, { sinceVersion: 5 }, Bodies.syncPage);
    const { epoch } = await server.stores.inbox.position('ben');
    const page = await t.request(Opcode.sync, Bodies.sync, { sinceVersion: 2, epoch: 'an-epoch-long-gone' }, Bodies.syncPage);
    assert.deepEqual(page, { entries: [], hasMore: false, lastVersion: 0, latestVersion: 5, epoch, reset: true });
    await server.stores.durable();
    assert.equal(await server.stores.inbox.cursor('ben', 'ben-tablet'), 0);
    // Version 0 of another epoch is no better: entries of the old epoch may be gone.
    assert.equal((await t.request(Opcode.sync, Bodies.sync, { sinceVersion: 0, epoch: 'another' }, Bodies.syncPage)).reset, true);
    // From the start of the current epoch, the entries come as usual.
    const fresh = await t.request(Opcode.sync, Bodies.sync, { sinceVersion: 0, epoch }, Bodies.syncPage);
    assert.deepEqual(fresh.entries.map((e) => e.version), [1, 2, 3, 4, 5]);
    t.close();
  });

  it('answers a version ahead of the inbox in its own epoch with a reset page, and a sync without an epoch with the page that moves it back', async () => {
    server = await startTestServer();
    await withMessages(2);
    const { t } = await rawLogin(server.port, 'ben', 'ben-tablet');
    const { epoch } = await server.stores.inbox.position('ben');
    const ahead = await t.request(Opcode.sync, Bodies.sync, { sinceVersion: 9, epoch }, Bodies.syncPage);
    assert.deepEqual({ reset: ahead.reset, lastVersion: ahead.lastVersion, latestVersion: ahead.latestVersion }, { reset: true, lastVersion: 0, latestVersion: 2 });
    const legacy = await t.request(Opcode.sync, Bodies.sync, { sinceVersion: 9 }, Bodies.syncPage);
    assert.deepEqual(legacy, { entries: [], hasMore: false, lastVersion: 2, latestVersion: 2, epoch });
    t.close();
  });

  it('keeps the embedded store’s epoch and versions across a restart on the same data', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tern-epochs-'));
    dirs.push(dataDir);
    const first = await startTestServer({ dataDir });
    server = first;
    await withMessages(2);
    const before = await first.stores.inbox.position('ben');
    await first.stop();
    server = await startTestServer({ dataDir });
    const after = await server.stores.inbox.position('ben');
    assert.deepEqual(after, before);
    assert.equal(after.version, 2);
  });
});
