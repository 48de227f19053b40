/**
 * Login throttling over real sockets (per-account and per-address backoff, time injected) and
 * the bounded scrypt queue and dummy check of the password module.
 */
import assert from 'node:assert/strict';
import type { Transport } from '../../client/transport.ts';
import { Bodies, Platform } from '../../protocol/bodies.ts';
import { ErrorCode, ProtocolError } from '../../protocol/errors.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import { Passwords } from '../../server/logic/passwords.ts';
import { ManualClock, startTestServer, waitUntil, type TestServer } from '../support/server.ts';
import { codeOf, Transports } from '../support/transports.ts';

describe('login throttling', function () {
  this.timeout(30_000);
  let server: TestServer;
  const transports = new Transports();
  afterEach(async () => {
    transports.closeAll();
    await server?.stop();
  });

  const greeted = (localAddress = '127.0.0.1') => transports.greeted(server.port, localAddress);
  const register = async (userId: string) => {
    const t = await greeted();
    await t.request(Opcode.register, Bodies.register, { userId, password: 'right', deviceId: 'd', platform: Platform.ios }, Bodies.session);
    t.close();
  };
  /** The login's error code, or 0 when it succeeded. */
  const login = (t: Transport, userId: string, password: string): Promise<number> =>
    codeOf(t.request(Opcode.login, Bodies.login, { userId, password, deviceId: 'd2', platform: Platform.android }, Bodies.session));

  it('locks an account from an address after 5 wrong passwords, refuses even the right one from there while locked, and doubles the lock per further failure', async () => {
    const clock = new ManualClock();
    server = await startTestServer({ clock });
    await register('alice');
    const t = await greeted();
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push(await login(t, 'alice', `guess${i}`));
    assert.deepEqual(codes, [2001, 2001, 2001, 2001, 2001, ErrorCode.rateLimited]);
    const derivations = server.logic.passwords.derivations;
    assert.equal(await login(t, 'alice', 'right'), ErrorCode.rateLimited, 'locked: the right password is refused too');
    assert.equal(server.logic.passwords.derivations, derivations, 'a locked login runs no scrypt');
    assert.equal(await login(await greeted('127.0.0.2'), 'alice', 'right'), 0, 'the owner elsewhere is not locked out');
    clock.advance(1_000);
    assert.equal(await login(t, 'alice', 'wrong again'), 2001);
    clock.advance(1_000);
    assert.equal(await login(t, 'alice', 'right'), ErrorCode.rateLimited, 'the next failure locks for 2 s');
    clock.advance(1_000);
    assert.equal(await login(t, 'alice', 'right'), 0);
    assert.equal(await login(await greeted(), 'alice', 'wrong'), 2001, 'a success starts the account over');
  });

  it('locks an address after 20 failures across accounts, for every account', async () => {
    const clock = new ManualClock();
    server = await startTestServer({ clock });
    await register('carol');
    const t = await greeted();
    for (let i = 0; i < 20; i++) assert.equal(await login(t, `nobody${i}`, 'x'), 2001);
    assert.equal(await login(t, 'carol', 'right'), ErrorCode.rateLimited);
    clock.advance(1_000);
    assert.equal(await login(t, 'carol', 'right'), 0);
  });

  it('locks an account whatever the address after 50 failures spread over addresses', async () => {
    const clock = new ManualClock();
    server = await startTestServer({ clock });
    await register('erin');
    for (let a = 0; a < 10; a++) {
      const t = await greeted(`127.0.0.${10 + a}`);
      for (let i = 0; i < 5; i++) assert.equal(await login(t, 'erin', 'x'), 2001);
      t.close();
    }
    assert.equal(await login(await greeted('127.0.0.30'), 'erin', 'right'), ErrorCode.rateLimited);
    assert.equal(await login(await greeted('127.0.0.30'), 'frank', 'x'), 2001, 'other accounts are not locked');
    clock.advance(1_000);
    assert.equal(await login(await greeted('127.0.0.30'), 'erin', 'right'), 0);
  });

  it('counts guesses sent at once before any is answered: 24 concurrent guesses run 5 password checks', async () => {
    server = await startTestServer();
    await register('gina');
    const before = server.logic.passwords.derivations;
    const guessers = await Promise.all(Array.from({ length: 24 }, () => greeted()));
    const codes = await Promise.all(guessers.map((t, i) => login(t, 'gina', `guess${i}`)));
    assert.deepEqual([codes.filter((c) => c === 2001).length, codes.filter((c) => c === ErrorCode.rateLimited).length], [5, 19]);
    assert.equal(server.logic.passwords.derivations - before, 5);
  });

  it('does not count successful logins against their address', async () => {
    server = await startTestServer();
    for (let i = 0; i < 25; i++) await register(`user${i}`);
    const codes: number[] = [];
    for (let i = 0; i < 25; i++) codes.push(await login(await greeted(), `user${i}`, 'right'));
    assert.deepEqual(codes, Array(25).fill(0));
  });

  it('answers 5002 and closes a login that finds the password-check queue full', async () => {
    server = await startTestServer({ scryptCost: 2 ** 15, scryptQueue: { concurrency: 1, queueLimit: 1 } });
    const logins = await Promise.all(Array.from({ length: 4 }, (_, i) => greeted(`127.0.0.${2 + i}`)));
    const codes = await Promise.all(logins.map((t, i) => login(t, `nobody${i}`, 'x')));
    assert.deepEqual([...codes].sort(), [2001, 2001, ErrorCode.overloaded, ErrorCode.overloaded]);
    await waitUntil(() => logins.filter((t) => !t.isOpen).length === 2, 'the refused connections to close');
  });

  it('runs a scrypt for an unknown user as for a known one', async () => {
    server = await startTestServer();
    await register('dave');
    const t = await greeted();
    const before = server.logic.passwords.derivations;
    assert.equal(await login(t, 'dave', 'wrong'), 2001);
    assert.equal(await login(t, 'nosuchuser', 'wrong'), 2001);
    assert.equal(server.logic.passwords.derivations - before, 2);
  });
});

describe('password checks', () => {
  it('run at most `concurrency` at once, queue `queueLimit` more, and refuse the next with 5002', async () => {
    const passwords = new Passwords({ cost: 2 ** 10, concurrency: 1, queueLimit: 2 });
    const { salt, hash } = await passwords.hash('pw');
    const checks = Array.from({ length: 4 }, () => passwords.verify('pw', salt, hash).then(String, (e: unknown) => (e instanceof ProtocolError ? String(e.code) : 'other')));
    assert.deepEqual(await Promise.all(checks), ['true', 'true', 'true', String(ErrorCode.overloaded)]);
    assert.equal(await passwords.verify('pw', salt, hash), true, 'the queue drained');
  });
});
