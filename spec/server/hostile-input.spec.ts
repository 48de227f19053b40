/**
 * The server's answers to hostile or malformed input, over real sockets: bounded decoding, the
 * request-size cap, the byte rate, the pre-login strike limit and the opcode × state precedence.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { encodeFrame, FrameDecoder, readBody, type Frame } from '../../codec/index.ts';
import { Bodies, Platform } from '../../protocol/bodies.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import { Limits } from '../../protocol/timers.ts';
import { compressedFrame, rawFrame } from '../../bench/attacks/frames.ts';
import { ManualClock, startTestServer, waitUntil, type TestServer } from '../support/server.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** A raw peer: writes bytes as given and records every frame the server sends, and the close. */
class Peer {
  readonly socket: Socket;
  readonly frames: Frame[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder();

  constructor(port: number) {
    this.socket = connect({ host: '127.0.0.1', port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.decoder.push(chunk, (f) => this.frames.push(f)));
    this.socket.on('close', () => (this.closed = true));
    this.socket.on('error', () => undefined);
  }

  send(frame: Buffer): void {
    this.socket.write(frame);
  }

  errors(): { code: number; requestId: number }[] {
    return this.frames.filter((f) => f.opcode === Opcode.error).map((f) => ({ code: readBody(f, Bodies.error).code, requestId: f.requestId }));
  }

  async reply(requestId: number, what = `a reply to ${requestId}`): Promise<Frame> {
    await waitUntil(() => this.frames.some((f) => f.requestId === requestId) || this.closed, what);
    const frame = this.frames.find((f) => f.requestId === requestId);
    if (!frame) assert.fail(`closed without ${what}`);
    return frame;
  }

  async hello(): Promise<void> {
    this.send(encodeFrame(Opcode.hello, 1, Bodies.hello, { version: 1, client: 'spec' }));
    await this.reply(1);
  }

  async register(userId: string): Promise<void> {
    await this.hello();
    this.send(encodeFrame(Opcode.register, 2, Bodies.register, { userId, password: 'pw', deviceId: 'd', platform: Platform.ios }));
    assert.equal((await this.reply(2)).opcode, Opcode.session);
  }

  async errorFor(requestId: number): Promise<number> {
    const frame = await this.reply(requestId);
    assert.equal(frame.opcode, Opcode.error, `expected an error for request ${requestId}`);
    return readBody(frame, Bodies.error).code;
  }
}

describe('hostile input', () => {
  let server: TestServer;
  const peers: Peer[] = [];
  const peer = () => {
    const p = new Peer(server.port);
    peers.push(p);
    return p;
  };
  afterEach(async () => {
    for (const p of peers.splice(0)) p.socket.destroy();
    await server?.stop();
  });

  it('closes with 1005 and request id 0 a compressed frame whose raw length exceeds the advertised request size', async () => {
    server = await startTestServer();
    const p = peer();
    p.send(encodeFrame(Opcode.hello, 1, Bodies.hello, { version: 1, client: 'spec' }));
    const hello = readBody(await p.reply(1), Bodies.serverHello);
    assert.equal(hello.maxRequestSize, Limits.maxRequestSize);
    // A 33 KB block expanding to 8 MiB of nested arrays: refused from the header.
    p.send(compressedFrame(Opcode.ping, 9, Buffer.alloc(8 * 1024 * 1024, 0x91)));
    await waitUntil(() => p.closed, 'the close');
    assert.deepEqual(p.errors(), [{ code: ErrorCode.badCompression, requestId: 0 }]);
  });

  it('answers a nested bomb within the request size with 1006 at once and keeps serving', async () => {
    server = await startTestServer();
    const p = peer();
    await p.hello();
    const started = performance.now();
    p.send(compressedFrame(Opcode.ping, 5, Buffer.alloc(Limits.maxRequestSize, 0x91)));
    assert.equal(await p.errorFor(5), ErrorCode.badBody);
    assert.ok(performance.now() - started < 500);
    p.send(rawFrame(Opcode.ping, 6, hex('90')));
    assert.equal((await p.reply(6)).opcode, Opcode.pong);
  });

  it('closes a connection that sends an uncompressed frame larger than 16 + the request size with 1001', async () => {
    server = await startTestServer();
    const p = peer();
    const header = Buffer.alloc(16);
    header.writeUInt32BE(16 + Limits.maxRequestSize + 1);
    header[4] = 1;
    header.writeUInt16BE(Opcode.hello, 6);
    p.send(header);
    await waitUntil(() => p.closed, 'the close');
    assert.deepEqual(p.errors(), [{ code: ErrorCode.frameTooLarge, requestId: 0 }]);
  });

  it('answers 1006 to ping bodies that are not the empty record', async () => {
    server = await startTestServer();
    const p = peer();
    await p.register('alice');
    const bodies = ['c1', '80', '90 90', 'c0'];
    bodies.forEach((body, i) => p.send(rawFrame(Opcode.ping, 10 + i, hex(body))));
    for (let i = 0; i < bodies.length; i++) assert.equal(await p.errorFor(10 + i), ErrorCode.badBody, bodies[i]);
    p.send(rawFrame(Opcode.ping, 20, hex('90')));
    assert.equal((await p.reply(20)).opcode, Opcode.pong);
  });

  it('rejects invalid UTF-8 and a float kind in send with 1006, and stores nothing', async () => {
    server = await startTestServer();
    const bob = peer();
    await bob.register('bob');
    const p = peer();
    await p.register('alice');
    p.send(rawFrame(Opcode.send, 30, hex('94 a2 63 31 a3 62 6f 62 01 a2 ff fe')));
    p.send(rawFrame(Opcode.send, 31, hex('94 a2 63 32 a3 62 6f 62 cb 3f f0 00 00 00 00 00 00 a1 61')));
    assert.equal(await p.errorFor(30), ErrorCode.badBody);
    assert.equal(await p.errorFor(31), ErrorCode.badBody);
    p.send(encodeFrame(Opcode.sync, 32, Bodies.sync, { sinceVersion: 0 }));
    assert.equal(readBody(await p.reply(32), Bodies.syncPage).entries.length, 0);
  });

  it('closes a connection that has not logged in after its third malformed body', async () => {
    server = await startTestServer();
    const p = peer();
    for (let i = 1; i <= 3; i++) p.send(rawFrame(Opcode.hello, i, hex('c1')));
    await waitUntil(() => p.closed, 'the close');
    assert.deepEqual(p.errors().map((e) => e.code), [ErrorCode.badBody, ErrorCode.badBody, ErrorCode.badBody]);
  });

  it('charges a compressed frame for its decompressed size in the rate limit', async () => {
    const clock = new ManualClock();
    server = await startTestServer({ clock });
    const p = peer();
    await p.register('alice');
    // A ping body of 65,535 nils (an empty record with appended elements): 64 KiB raw, a few hundred bytes sent.
    const body = Buffer.concat([hex('dd 00 00 ff ff'), Buffer.alloc(65_535, 0xc0)]);
    const frames = 40;
    for (let i = 0; i < frames; i++) p.send(compressedFrame(Opcode.ping, 100 + i, body));
    await waitUntil(() => p.frames.filter((f) => f.requestId >= 100).length === frames, 'every answer');
    const limited = p.frames.filter((f) => f.requestId >= 100 && f.opcode === Opcode.error).length;
    const allowed = Math.floor(Limits.bodyBytesPerSecond / body.length);
    assert.equal(limited, frames - allowed);
    assert.equal(p.closed, false);
  });

  it('answers opcodes by the precedence of SPEC §7.1: 1007, then 1008, then 1010, then 1011', async () => {
    server = await startTestServer();
    const p = peer();
    p.send(rawFrame(0x7777, 1, hex('90')));
    p.send(rawFrame(Opcode.pong, 2, hex('90')));
    p.send(rawFrame(Opcode.sync, 3, hex('90')));
    assert.equal(await p.errorFor(1), ErrorCode.unknownOpcode);
    assert.equal(await p.errorFor(2), ErrorCode.unexpectedOpcode);
    assert.equal(await p.errorFor(3), ErrorCode.unexpectedOpcode);
    p.send(encodeFrame(Opcode.hello, 4, Bodies.hello, { version: 1, client: 'spec' }));
    await p.reply(4);
    p.send(rawFrame(Opcode.roomJoin, 5, hex('90')));
    p.send(rawFrame(Opcode.roomPush, 6, hex('90')));
    p.send(rawFrame(Opcode.send, 7, hex('c1')));
    assert.equal(await p.errorFor(5), ErrorCode.notAuthenticated);
    assert.equal(await p.errorFor(6), ErrorCode.notAuthenticated);
    assert.equal(await p.errorFor(7), ErrorCode.notAuthenticated, 'state before body');
    p.send(encodeFrame(Opcode.register, 8, Bodies.register, { userId: 'alice', password: 'pw', deviceId: 'd', platform: Platform.ios }));
    await p.reply(8);
    p.send(rawFrame(Opcode.roomJoin, 9, hex('90')));
    p.send(rawFrame(Opcode.login, 10, hex('c1')));
    assert.equal(await p.errorFor(9), ErrorCode.unsupported);
    assert.equal(await p.errorFor(10), ErrorCode.unexpectedOpcode, 'state before body');
  });

  it('answers a register with an empty password with 1006', async () => {
    server = await startTestServer();
    const p = peer();
    await p.hello();
    p.send(rawFrame(Opcode.register, 3, hex('94 a5 616c696365 a0 a1 64 01')));
    assert.equal(await p.errorFor(3), ErrorCode.badBody);
  });

  it('ignores pushAck 0 before any push', async () => {
    server = await startTestServer();
    const p = peer();
    await p.register('alice');
    p.send(encodeFrame(Opcode.pushAck, 0, Bodies.pushAck, { upTo: 0 }));
    p.send(rawFrame(Opcode.ping, 40, hex('90')));
    assert.equal((await p.reply(40)).opcode, Opcode.pong);
    assert.deepEqual(p.errors(), []);
  });
});
