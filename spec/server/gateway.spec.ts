import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Transport, ServerError } from '../../client/transport.ts';
import { FrameDecoder, readBody, type Frame } from '../../codec/index.ts';
import { Bodies } from '../../protocol/bodies.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import { malformedVectors } from '../support/vectors.ts';
import { freePort } from '../support/process.ts';
import { startTestServer, waitUntil, ManualClock, type TestServer } from '../support/server.ts';
import { throwawayCertificate } from '../support/tls.ts';

async function greeted(port: number): Promise<Transport> {
  const transport = await Transport.open({ host: '127.0.0.1', port });
  await transport.request(Opcode.hello, Bodies.hello, { version: 1, client: 'spec' }, Bodies.serverHello);
  return transport;
}

function rejectsWith(code: number) {
  return (error: unknown) => error instanceof ServerError && error.code === code;
}

/** A raw socket that records every frame the server sends and when it closes. */
function rawSocket(port: number) {
  const socket = connect({ host: '127.0.0.1', port });
  const decoder = new FrameDecoder();
  const frames: Frame[] = [];
  let closed = false;
  socket.on('data', (chunk) => decoder.push(chunk, (f) => frames.push(f)));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  return { socket, frames, isClosed: () => closed };
}

describe('gateway', () => {
  let server: TestServer;
  afterEach(async () => server?.stop());

  it('rejects a wrong password and an unknown user with 2001, and a taken user id with 2002', async () => {
    server = await startTestServer();
    await server.client('alice').connect();
    const t = await greeted(server.port);
    await assert.rejects(t.request(Opcode.login, Bodies.login, { userId: 'alice', deviceId: 'd', platform: 1, password: 'wrong' }, Bodies.session), rejectsWith(ErrorCode.badCredentials));
    await assert.rejects(t.request(Opcode.login, Bodies.login, { userId: 'nobody', deviceId: 'd', platform: 1, password: 'x' }, Bodies.session), rejectsWith(ErrorCode.badCredentials));
    await assert.rejects(t.request(Opcode.register, Bodies.register, { userId: 'alice', password: 'x', deviceId: 'd', platform: 1 }, Bodies.session), rejectsWith(ErrorCode.userExists));
    await assert.rejects(t.request(Opcode.login, Bodies.login, { userId: 'alice', deviceId: 'd', platform: 1, token: 'forged' }, Bodies.session), rejectsWith(ErrorCode.badToken));
    const ok = await t.request(Opcode.login, Bodies.login, { userId: 'alice', deviceId: 'd', platform: 1, password: 'pw-alice' }, Bodies.session);
    assert.equal(ok.userId, 'alice');
    t.close();
  });

  it('logs in again with the session token on its own device only, and not after the token is revoked; revoking kicks the token’s session', async () => {
    server = await startTestServer();
    const phone = await greeted(server.port);
    const mine = await phone.request(Opcode.register, Bodies.register, { userId: 'alice', password: 'pw', deviceId: 'alice-phone', platform: 1 }, Bodies.session);
    const desk = await greeted(server.port);
    const deskKicks: number[] = [];
    desk.on('frame', (f) => {
      if (f.opcode === Opcode.kick) deskKicks.push(readBody(f, Bodies.kick).reason);
    });
    const deskSession = await desk.request(Opcode.login, Bodies.login, { userId: 'alice', deviceId: 'alice-desk', platform: 3, password: 'pw' }, Bodies.session);
    const thief = await greeted(server.port);
    await assert.rejects(thief.request(Opcode.login, Bodies.login, { userId: 'alice', deviceId: 'alice-stolen', platform: 2, token: mine.token }, Bodies.session), rejectsWith(ErrorCode.badToken));
    await assert.rejects(thief.request(Opcode.login, Bodies.login, { userId: 'alice', deviceId: 'alice-desk', platform: 3, token: mine.token }, Bodies.session), rejectsWith(ErrorCode.badToken));

    await phone.request(Opcode.revokeToken, Bodies.revokeToken, { token: deskSession.token }, Bodies.ok);
    await waitUntil(() => deskKicks.length === 1, 'the desk, logged in with the revoked token, to be kicked');
    assert.deepEqual(deskKicks, [3]);
    await assert.rejects(phone.request(Opcode.revokeToken, Bodies.revokeToken, { token: 'not-mine' }, Bodies.ok), rejectsWith(ErrorCode.badToken));
    await assert.rejects(thief.request(Opcode.login, Bodies.login, { userId: 'alice', deviceId: 'alice-desk', platform: 3, token: deskSession.token }, Bodies.session), rejectsWith(ErrorCode.badToken));
    const again = await thief.request(Opcode.login, Bodies.login, { userId: 'alice', deviceId: 'alice-phone', platform: 1, token: mine.token }, Bodies.session);
    assert.equal(again.token, mine.token);
    for (const t of [phone, desk, thief]) t.close();
  });

  it('refuses platforms outside Platform with 1006 and keeps at most one session per platform, four per user', async () => {
    server = await startTestServer();
    for (const platform of [0, 5, 9, 99]) {
      const t = await greeted(server.port);
      await assert.rejects(t.request(Opcode.register, Bodies.register, { userId: 'bob', password: 'pw', deviceId: 'd0', platform }, Bodies.session), rejectsWith(ErrorCode.badBody));
      t.close();
    }
    const first = await greeted(server.port);
    await first.request(Opcode.register, Bodies.register, { userId: 'bob', password: 'pw', deviceId: 'd0', platform: 1 }, Bodies.session);
    const sessions = [first];
    for (const platform of [0, 7, 101]) {
      const t = await greeted(server.port);
      await assert.rejects(t.request(Opcode.login, Bodies.login, { userId: 'bob', password: 'pw', deviceId: `x${platform}`, platform }, Bodies.session), rejectsWith(ErrorCode.badBody));
      t.close();
    }
    for (let i = 1; i < 12; i++) {
      const t = await greeted(server.port);
      await t.request(Opcode.login, Bodies.login, { userId: 'bob', password: 'pw', deviceId: `d${i}`, platform: 1 + (i % 4) }, Bodies.session);
      sessions.push(t);
    }
    await waitUntil(() => sessions.filter((t) => t.isOpen).length === 4, 'the older session of each platform to be closed');
    assert.deepEqual(sessions.map((t) => t.isOpen), [...Array(8).fill(false), true, true, true, true]);
    for (const t of sessions) t.close();
  });

  it('answers requests in the wrong state with 1008 or 1010 and keeps the connection', async () => {
    server = await startTestServer();
    const t = await Transport.open({ host: '127.0.0.1', port: server.port });
    await assert.rejects(t.request(Opcode.sync, Bodies.sync, { sinceVersion: 0 }, Bodies.syncPage), rejectsWith(ErrorCode.unexpectedOpcode));
    await t.request(Opcode.hello, Bodies.hello, { version: 1, client: 'spec' }, Bodies.serverHello);
    await assert.rejects(
      t.request(Opcode.login, Bodies.login, { userId: 'alice', deviceId: 'd', platform: 1, password: 'x', token: 'y' }, Bodies.session),
      rejectsWith(ErrorCode.badBody),
    );
    await assert.rejects(t.request(Opcode.sync, Bodies.sync, { sinceVersion: 0 }, Bodies.syncPage), rejectsWith(ErrorCode.notAuthenticated));
    await assert.rejects(t.request(Opcode.groupCreate, Bodies.ok, {}, Bodies.ok), rejectsWith(ErrorCode.notAuthenticated));
    await assert.rejects(t.request(0x7777, Bodies.ok, {}, Bodies.ok), rejectsWith(ErrorCode.unknownOpcode));
    await assert.rejects(t.request(Opcode.send, Bodies.ok, {}, Bodies.ok), rejectsWith(ErrorCode.notAuthenticated));
    const pong = await t.request(Opcode.ping, Bodies.ping, {}, Bodies.pong);
    assert.ok(pong.serverTime > 0);
    t.close();
  });

  it('rejects a malformed body with 1006 and goes on serving the connection', async () => {
    server = await startTestServer();
    await server.client('bob').connect();
    const alice = server.client('alice');
    await alice.connect();
    await assert.rejects(alice.connection!.request(Opcode.send, Bodies.ok, {}, Bodies.sendAck), rejectsWith(ErrorCode.badBody));
    const ack = await alice.send('bob', 'still here');
    assert.equal(ack.seq, 1);
  });

  it('closes a connection that sends a malformed header with its error code, and serves the others', async () => {
    server = await startTestServer();
    const bystander = server.client('carol');
    await bystander.connect();
    for (const vector of malformedVectors) {
      const raw = rawSocket(server.port);
      raw.socket.write(Buffer.from(vector.hex, 'hex'));
      await waitUntil(raw.isClosed, `close after: ${vector.name}`);
      assert.equal(raw.frames.length, 1, vector.name);
      assert.equal(readBody(raw.frames[0]!, Bodies.error).code, vector.error, vector.name);
    }
    assert.equal(bystander.status, 'ready');
    await bystander.history('p:carol:dave');
  });

  it('closes a connection that does not log in before the deadline (time injected)', async () => {
    const clock = new ManualClock();
    server = await startTestServer({ clock });
    const raw = rawSocket(server.port);
    await waitUntil(() => server.gateway.size === 1, 'the connection to be accepted');
    server.gateway.tick(clock.advance(server.gateway.config.loginDeadlineMs - 500));
    assert.equal(raw.isClosed(), false);
    server.gateway.tick(clock.advance(1_000));
    await waitUntil(raw.isClosed, 'the close');
    assert.equal(readBody(raw.frames[0]!, Bodies.error).code, ErrorCode.loginTimeout);
  });

  it('closes an authenticated connection that stays silent past the idle timeout, not before', async () => {
    const clock = new ManualClock();
    server = await startTestServer({ clock });
    const alice = server.client('alice', { reconnect: false });
    await alice.connect();
    alice.connection!.stopHeartbeat();
    const idle = server.gateway.config.idleTimeoutMs;
    server.gateway.tick(clock.advance(idle - 1_000));
    await alice.history('p:alice:bob'); // any frame counts as activity
    server.gateway.tick(clock.advance(idle - 1_000));
    assert.equal(alice.status, 'ready');
    server.gateway.tick(clock.advance(1_500));
    await waitUntil(() => alice.status === 'closed', 'the idle close');
    assert.equal(server.gateway.stats.closed.idle, 1);
  });

  it('refuses connections beyond the limit of logged-in sessions with a retryable 5002', async () => {
    server = await startTestServer({ gateway: { maxConnections: 2 } });
    await server.client('alice').connect();
    await server.client('bob').connect();
    const c = rawSocket(server.port);
    await waitUntil(c.isClosed, 'the third to be refused');
    const error = readBody(c.frames[0]!, Bodies.error);
    assert.equal(error.code, ErrorCode.overloaded);
    assert.equal(error.retry, true);
  });

  it('speaks the same protocol over TLS', async () => {
    const { cert, key } = throwawayCertificate();
    server = await startTestServer({ tls: { port: await freePort(), options: { cert, key } } });
    const secure = server.client('alice', { endpoint: { host: '127.0.0.1', port: server.tlsPort!, tls: { ca: cert, servername: 'localhost' } } });
    const plain = server.client('bob');
    await Promise.all([secure.connect(), plain.connect()]);
    const got: string[] = [];
    plain.on('message', (m) => got.push(m.content));
    await secure.send('bob', 'over tls');
    await waitUntil(() => got.length === 1, 'delivery over tls');
    assert.deepEqual(got, ['over tls']);
  });
});

describe('gateway back-pressure', () => {
  let server: TestServer;
  afterEach(async () => server?.stop());

  it('closes a consumer that stops acknowledging once its push queue is full, and the next sync delivers everything', async () => {
    server = await startTestServer({ gateway: { pushWindow: 4, pushQueue: 8 } });
    const alice = server.client('alice');
    await Promise.all([alice.connect(), server.client('bob').connect().then(() => undefined)]);
    const slow = await greeted(server.port);
    await slow.request(Opcode.login, Bodies.login, { userId: 'bob', deviceId: 'bob-slow', platform: 3, password: 'pw-bob' }, Bodies.session);
    const pushes: number[] = [];
    const errors: number[] = [];
    slow.on('frame', (frame) => {
      if (frame.opcode === Opcode.push) pushes.push(frame.requestId);
      if (frame.opcode === Opcode.error) errors.push(readBody(frame, Bodies.error).code);
    });
    let closed = false;
    slow.on('close', () => (closed = true));
    for (let i = 0; i < 20; i++) await alice.send('bob', `burst ${i}`);
    await waitUntil(() => closed, 'the slow consumer to be closed');
    assert.deepEqual(pushes, [1, 2, 3, 4], 'only the window was sent');
    assert.deepEqual(errors, [ErrorCode.overloaded]);
    assert.equal(server.gateway.stats.closed.slowConsumer, 1);

    const again = server.client('bob', { register: false, deviceId: 'bob-slow', platform: 3 });
    const got: string[] = [];
    again.on('message', (m) => got.push(m.content));
    await again.connect();
    await waitUntil(() => got.length === 20, 'all 20 through sync');
    assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => `burst ${i}`));
  });
});
