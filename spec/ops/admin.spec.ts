import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../client/client.ts';
import { readBody } from '../../codec/index.ts';
import { Bodies, KickReason, Platform, type BodyOf } from '../../protocol/bodies.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import { adminUrl, call } from '../support/admin.ts';
import { freePort, spawnServer, stopProcess, type ServerProcess } from '../support/process.ts';
import { RawDevice } from '../support/raw-device.ts';
import { waitUntil } from '../support/server.ts';

const TOKEN = 'test-admin-token';

describe('the admin API', function () {
  this.timeout(60_000);
  let dataDir: string;
  let server: ServerProcess | undefined;
  let port: number;
  const closers: Array<() => void> = [];

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'tern-admin-'));
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) close();
    if (server) await stopProcess(server.child, 'SIGKILL');
    server = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(extra: string[]): Promise<string> {
    port = await freePort();
    server = await spawnServer(['--workers', '1', '--data-dir', dataDir, '--scrypt-cost', '1024', ...extra], port);
    return adminUrl(server);
  }

  async function device(userId: string): Promise<RawDevice> {
    const d = await RawDevice.register(port, userId);
    closers.push(() => d.close());
    return d;
  }

  it('refuses without the token or with a wrong one, and is off without a configured token', async () => {
    const base = await start(['--admin-token', TOKEN]);
    assert.equal((await call(`${base}/admin/online`)).status, 401);
    assert.equal((await call(`${base}/admin/online`, { token: 'wrong' })).status, 401);
    assert.equal((await call(`${base}/admin/users/alice/kick`, { method: 'POST', token: `${TOKEN}x` })).status, 401);
    assert.deepEqual((await call(`${base}/admin/online`, { token: TOKEN })).body, { users: 0, sessions: 0 });
    assert.equal((await call(`${base}/health`)).status, 200, 'health needs no token');
    await stopProcess(server!.child, 'SIGKILL');
    const off = await start([]);
    assert.equal((await call(`${off}/admin/online`, { token: TOKEN })).status, 404);
  });

  it('lists a user\'s devices and kicks one with reason byAdmin', async () => {
    const base = await start(['--admin-token', TOKEN]);
    const alice = await device('alice');
    await device('bob');
    const kicks: BodyOf<'kick'>[] = [];
    alice.onOther = (frame) => frame.opcode === Opcode.kick && kicks.push(readBody(frame, Bodies.kick));
    assert.deepEqual((await call(`${base}/admin/online`, { token: TOKEN })).body, { users: 2, sessions: 2 });
    const listed = (await call(`${base}/admin/users/alice/devices`, { token: TOKEN })).body as { devices: Array<{ deviceId: string; platform: number }> };
    assert.deepEqual(listed.devices.map((d) => [d.deviceId, d.platform]), [['alice-d', Platform.android]]);

    const kicked = await call(`${base}/admin/users/alice/kick`, { method: 'POST', token: TOKEN, body: { message: 'maintenance' } });
    assert.deepEqual(kicked.body, { kicked: 1 });
    await waitUntil(() => kicks.length === 1 && alice.isClosed, 'alice is kicked and closed');
    assert.equal(kicks[0]!.reason, KickReason.byAdmin);
    assert.equal(kicks[0]!.message, 'maintenance');
    const after = (await call(`${base}/admin/users/alice/devices`, { token: TOKEN })).body as { devices: unknown[] };
    assert.deepEqual(after.devices, []);
    assert.deepEqual((await call(`${base}/admin/online`, { token: TOKEN })).body, { users: 1, sessions: 1 });
    assert.equal((await call(`${base}/admin/users/bad%20id/devices`, { token: TOKEN })).status, 400, 'an invalid user id is a 400');
  });

  it('sends a system message that is pushed and stored, from an account nobody can register', async () => {
    const base = await start(['--admin-token', TOKEN]);
    const bob = await device('bob');
    const pushed: BodyOf<'push'>[] = [];
    bob.onPush = (entry) => pushed.push(entry);
    const sent = await call(`${base}/admin/users/bob/messages`, { method: 'POST', token: TOKEN, body: { content: 'the service restarts at noon' } });
    assert.equal(sent.status, 200);
    await waitUntil(() => pushed.length === 1, 'bob gets the system message');
    assert.equal(pushed[0]!.message?.from, 'system');
    assert.equal(pushed[0]!.message?.content, 'the service restarts at noon');
    await assert.rejects(RawDevice.register(port, 'system'), /register system/);
    assert.equal((await call(`${base}/admin/users/nobody/messages`, { method: 'POST', token: TOKEN, body: { content: 'x' } })).status, 400);
    assert.equal((await call(`${base}/admin/users/bob/messages`, { method: 'POST', token: TOKEN, body: { content: 7 } })).status, 400);
  });

  it('mutes a user, or allows them text only: sends get 3002 until the sanction is lifted', async () => {
    const base = await start(['--admin-token', TOKEN]);
    const alice = await device('alice');
    await device('bob');
    const answers: Array<number | 'ack'> = [];
    const send = async (id: string, kind = 1) => {
      const before = answers.length;
      alice.send(id, 'bob', 'hello', (ack, code) => answers.push(ack ? 'ack' : (code ?? -1)), kind);
      await waitUntil(() => answers.length === before + 1, `answer to ${id}`);
      return answers.at(-1);
    };
    const sanction = (body: unknown) => call(`${base}/admin/users/alice/sanctions`, { method: 'POST', token: TOKEN, body });
    const muted = await sanction({ mutedSeconds: 600 });
    assert.equal(muted.status, 200);
    assert.ok((muted.body as { mutedUntil: number }).mutedUntil > 0);
    assert.equal(await send('m1'), ErrorCode.forbidden);
    assert.equal((await sanction({ mutedSeconds: 0, textOnlySeconds: 600 })).status, 200);
    assert.equal(await send('m2'), 'ack', 'text is allowed');
    assert.equal(await send('m3', 2), ErrorCode.forbidden, 'another kind is not');
    assert.deepEqual((await sanction({ textOnlySeconds: 0 })).body, { mutedUntil: 0, textOnlyUntil: 0 });
    assert.equal(await send('m4', 2), 'ack');
    assert.equal((await sanction({ mutedSeconds: -1 })).status, 400);
    assert.equal((await sanction({ mutedSeconds: 'long' })).status, 400);
    assert.equal((await sanction({})).status, 400);
  });

  it('revokes the tokens of a user\'s online devices: the token no longer logs in', async () => {
    const base = await start(['--admin-token', TOKEN]);
    const options = { endpoint: { host: '127.0.0.1', port }, userId: 'carol', deviceId: 'carol-phone', platform: Platform.ios, reconnect: false as const };
    const carol = new Client({ ...options, password: 'pw-carol', register: true });
    closers.push(() => carol.close());
    await carol.connect();
    const token = carol.session!.token;
    const kicks: BodyOf<'kick'>[] = [];
    carol.on('kicked', (k) => kicks.push(k));
    const revoked = await call(`${base}/admin/users/carol/revoke-tokens`, { method: 'POST', token: TOKEN });
    assert.deepEqual(revoked.body, { revoked: 1, kicked: 1 });
    await waitUntil(() => kicks.length === 1, 'carol is kicked');
    assert.equal(kicks[0]!.reason, KickReason.tokenRevoked);
    const again = new Client({ ...options, token });
    closers.push(() => again.close());
    await assert.rejects(again.connect(), (error: { code?: number }) => error.code === ErrorCode.badToken);
  });
});
