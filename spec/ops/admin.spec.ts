import assert from 'node:assert/strict';
import { Client } from '../../client/client.ts';
import { readBody } from '../../codec/index.ts';
import { Bodies, GROUP_EVENT_KIND_BASE, KickReason, Platform, type BodyOf } from '../../protocol/bodies.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import { adminUrl, call } from '../support/admin.ts';
import { replyOf } from '../support/group-calls.ts';
import { useSpawnedServer } from '../support/fixtures.ts';
import { RawDevice } from '../support/raw-device.ts';
import { RoomPeer } from '../support/room-peer.ts';
import { waitUntil } from '../support/server.ts';

const TOKEN = 'test-admin-token';

describe('the admin API', function () {
  this.timeout(60_000);
  const spawned = useSpawnedServer('admin');

  async function start(extra: string[]): Promise<string> {
    return adminUrl(await spawned.start(['--workers', '1', ...extra]));
  }

  const device = (userId: string) => spawned.device(userId);

  it('refuses without the token or with a wrong one, and is off without a configured token', async () => {
    const base = await start(['--admin-token', TOKEN]);
    assert.equal((await call(`${base}/admin/online`)).status, 401);
    assert.equal((await call(`${base}/admin/online`, { token: 'wrong' })).status, 401);
    assert.equal((await call(`${base}/admin/users/alice/kick`, { method: 'POST', token: `${TOKEN}x` })).status, 401);
    assert.deepEqual((await call(`${base}/admin/online`, { token: TOKEN })).body, { users: 0, sessions: 0 });
    assert.equal((await call(`${base}/health`)).status, 200, 'health needs no token');
    await spawned.stop();
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
    await assert.rejects(RawDevice.register(spawned.port, 'system'), /register system/);
    assert.equal((await call(`${base}/admin/users/nobody/messages`, { method: 'POST', token: TOKEN, body: { content: 'x' } })).status, 400);
    assert.equal((await call(`${base}/admin/users/bob/messages`, { method: 'POST', token: TOKEN, body: { content: 7 } })).status, 400);
  });

  it('posts a system message on a group\'s timeline: pushed to every member, synced after, 3001 for no such group', async () => {
    const base = await start(['--admin-token', TOKEN]);
    const alice = await device('alice');
    const bob = await device('bob');
    const { groupId } = replyOf(await alice.call('groupCreate', { name: 'team', members: ['bob'] }), 'groupInfo');
    const posts = (d: RawDevice) => {
      const seen: NonNullable<BodyOf<'push'>['message']>[] = [];
      d.onPush = (entry) => entry.message && entry.message.kind < GROUP_EVENT_KIND_BASE && seen.push(entry.message);
      return seen;
    };
    const toAlice = posts(alice);
    const toBob = posts(bob);
    const sent = await call(`${base}/admin/groups/${groupId}/messages`, { method: 'POST', token: TOKEN, body: { content: 'maintenance at noon' } });
    assert.equal(sent.status, 200);
    const ack = sent.body as BodyOf<'sendAck'>;
    assert.equal(ack.conversationId, `g:${groupId}`);
    await waitUntil(() => toAlice.length === 1 && toBob.length === 1, 'both members get the post');
    for (const m of [toAlice[0]!, toBob[0]!]) assert.deepEqual([m.from, m.content, m.seq, m.to], ['system', 'maintenance at noon', ack.seq, groupId]);
    const page = replyOf(await bob.call('groupSync', { cursors: [{ groupId, afterSeq: 0 }], limit: 10 }), 'groupSyncPage');
    assert.deepEqual(page.messages.filter((m) => m.from === 'system').map((m) => m.seq), [ack.seq], 'it is on the timeline');
    const missing = await call(`${base}/admin/groups/no-such-group/messages`, { method: 'POST', token: TOKEN, body: { content: 'x' } });
    assert.deepEqual([missing.status, (missing.body as { code?: number }).code], [400, ErrorCode.notFound]);
    assert.equal((await call(`${base}/admin/groups/${groupId}/messages`, { method: 'POST', token: TOKEN, body: { content: 'x', kind: GROUP_EVENT_KIND_BASE + 1 } })).status, 400);
  });

  it('publishes a system message to a live room once: every viewer gets it, a reliable one with the next seq', async () => {
    const base = await start(['--admin-token', TOKEN]);
    const viewers = await Promise.all(['v1', 'v2'].map((u) => RoomPeer.register(spawned.port, u)));
    for (const v of viewers) spawned.closeAfter(v);
    for (const v of viewers) await v.join('stream-1');
    const ordinary = await call(`${base}/admin/rooms/stream-1/messages`, { method: 'POST', token: TOKEN, body: { content: 'welcome' } });
    assert.deepEqual([ordinary.status, (ordinary.body as BodyOf<'roomSendAck'>).seq], [200, 0]);
    const reliable = await call(`${base}/admin/rooms/stream-1/messages`, { method: 'POST', token: TOKEN, body: { content: 'prize draw', kind: 7, reliable: true } });
    assert.deepEqual([reliable.status, (reliable.body as BodyOf<'roomSendAck'>).seq], [200, 1]);
    await waitUntil(() => viewers.every((v) => v.messages('stream-1').length === 2), 'both viewers get both');
    for (const v of viewers) assert.deepEqual(v.messages('stream-1').map((m) => [m.from, m.content, m.seq]), [['system', 'welcome', 0], ['system', 'prize draw', 1]]);
    assert.equal((await call(`${base}/admin/rooms/stream-1/messages`, { method: 'POST', token: TOKEN, body: { content: 'x'.repeat(1025) } })).status, 400);
    assert.equal((await call(`${base}/admin/rooms/stream-1/messages`, { method: 'POST', token: TOKEN, body: { content: 'x', reliable: 'yes' } })).status, 400);
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
    const options = { endpoint: { host: '127.0.0.1', port: spawned.port }, userId: 'carol', deviceId: 'carol-phone', platform: Platform.ios, reconnect: false as const };
    const carol = new Client({ ...options, password: 'pw-carol', register: true });
    spawned.closeAfter(carol);
    await carol.connect();
    const token = carol.session!.token;
    const kicks: BodyOf<'kick'>[] = [];
    carol.on('kicked', (k) => kicks.push(k));
    const revoked = await call(`${base}/admin/users/carol/revoke-tokens`, { method: 'POST', token: TOKEN });
    assert.deepEqual(revoked.body, { revoked: 1, kicked: 1 });
    await waitUntil(() => kicks.length === 1, 'carol is kicked');
    assert.equal(kicks[0]!.reason, KickReason.tokenRevoked);
    const again = new Client({ ...options, token });
    spawned.closeAfter(again);
    await assert.rejects(again.connect(), (error: { code?: number }) => error.code === ErrorCode.badToken);
  });
});
