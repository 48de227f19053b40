/** The per-user send quota over real sockets, time injected. */
import assert from 'node:assert/strict';
import type { Transport } from '../../client/transport.ts';
import { Bodies, Platform } from '../../protocol/bodies.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import { ManualClock, startTestServer, type TestServer } from '../support/server.ts';
import { codeOf, Transports } from '../support/transports.ts';

describe('send quota', function () {
  this.timeout(30_000);
  let server: TestServer;
  const transports = new Transports();
  afterEach(async () => {
    transports.closeAll();
    await server?.stop();
  });
  const device = async (userId: string, platform: number, register: boolean) => {
    const t = await transports.greeted(server.port);
    const credentials = { userId, password: 'pw', deviceId: `${userId}-${platform}`, platform };
    if (register) await t.request(Opcode.register, Bodies.register, credentials, Bodies.session);
    else await t.request(Opcode.login, Bodies.login, credentials, Bodies.session);
    return t;
  };
  let n = 0;
  /** 0 when acknowledged, else the error code. */
  const send = (t: Transport, to: string, content: string): Promise<number> =>
    codeOf(t.request(Opcode.send, Bodies.send, { clientMsgId: `c${n++}`, to, kind: 1, content }, Bodies.sendAck));

  it('refuses a user’s sends past the messages or bytes of the window with 3007, over all their devices, and not other users’', async () => {
    const clock = new ManualClock();
    server = await startTestServer({ clock, sendQuota: { windowMs: 10_000, messages: 5, bytes: 1_000, maxUsers: 100 } });
    const phone = await device('alice', Platform.ios, true);
    const desk = await device('alice', Platform.desktop, false);
    const bob = await device('bob', Platform.ios, true);
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push(await send(i % 2 ? desk : phone, 'bob', 'hi'));
    codes.push(await send(phone, 'bob', 'hi'), await send(desk, 'bob', 'hi'));
    assert.deepEqual(codes, [0, 0, 0, 0, 0, ErrorCode.quotaExceeded, ErrorCode.quotaExceeded]);
    assert.equal(await send(bob, 'alice', 'hi'), 0, 'another user has their own quota');
    const page = await bob.request(Opcode.sync, Bodies.sync, { sinceVersion: 0 }, Bodies.syncPage);
    assert.equal(page.entries.filter((e) => e.message?.from === 'alice').length, 5, 'a refused send stores nothing');

    clock.advance(10_000);
    assert.equal(await send(phone, 'bob', 'é'.repeat(300)), 0, '600 bytes');
    assert.equal(await send(phone, 'bob', 'x'.repeat(500)), ErrorCode.quotaExceeded, '1,100 bytes in the window');
    assert.equal(await send(phone, 'bob', 'x'.repeat(400)), 0, '1,000 bytes');
  });

  it('charges group posts to the same per-user quota as 1:1 sends', async () => {
    const clock = new ManualClock();
    server = await startTestServer({ clock, sendQuota: { windowMs: 10_000, messages: 4, bytes: 1_000_000, maxUsers: 100 } });
    const phone = await device('alice', Platform.ios, true);
    await device('bob', Platform.ios, true);
    const group = await phone.request(Opcode.groupCreate, Bodies.groupCreate, { name: 'q', members: ['bob'] }, Bodies.groupInfo);
    const post = (): Promise<number> => codeOf(phone.request(Opcode.groupSend, Bodies.groupSend, { groupId: group.groupId, clientMsgId: `g${n++}`, kind: 1, content: 'hi' }, Bodies.sendAck));
    const codes = [await send(phone, 'bob', 'hi'), await post(), await send(phone, 'bob', 'hi'), await post(), await post(), await send(phone, 'bob', 'hi')];
    assert.deepEqual(codes, [0, 0, 0, 0, ErrorCode.quotaExceeded, ErrorCode.quotaExceeded]);
    clock.advance(10_000);
    assert.equal(await post(), 0, 'a new window');
  });
});
