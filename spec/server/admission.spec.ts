/** Admission at accept: pre-login limits apart from sessions, and TLS counted and timed from the TCP accept. */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { encodeFrame, FrameDecoder, readBody, type Frame } from '../../codec/index.ts';
import { Bodies } from '../../protocol/bodies.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import { freePort } from '../support/process.ts';
import { ManualClock, startTestServer, waitUntil, type TestServer } from '../support/server.ts';
import { throwawayCertificate } from '../support/tls.ts';

function watch(socket: Socket) {
  const decoder = new FrameDecoder();
  const frames: Frame[] = [];
  const state = { closed: false, frames };
  socket.on('data', (chunk: Buffer) => decoder.push(chunk, (f) => frames.push(f)));
  socket.on('close', () => (state.closed = true));
  socket.on('error', () => undefined);
  return state;
}

const hello = encodeFrame(Opcode.hello, 1, Bodies.hello, { version: 1, client: 'spec' });

describe('admission', () => {
  let server: TestServer;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await server?.stop();
  });
  const open = (port: number, localAddress?: string) => {
    const socket = connect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) });
    sockets.push(socket);
    return socket;
  };

  it('lets a client log in while more connections than the limit sit without logging in, displacing the oldest', async () => {
    server = await startTestServer({ gateway: { maxConnections: 20 } });
    const idle = Array.from({ length: 40 }, () => watch(open(server.port).on('connect', function (this: Socket) { this.write(hello); })));
    await waitUntil(() => idle.filter((s) => !s.closed).length === 20 && idle.filter((s) => s.closed).length === 20, 'twenty displaced');
    const displaced = idle.find((s) => s.closed)!;
    assert.equal(readBody(displaced.frames.find((f) => f.opcode === Opcode.error)!, Bodies.error).code, ErrorCode.overloaded);
    await server.client('alice').connect();
  });

  it('refuses a connection beyond the per-address pre-login limit, and admits one from another address', async () => {
    server = await startTestServer({ gateway: { maxPreLoginPerAddress: 5 } });
    const first = Array.from({ length: 5 }, () => watch(open(server.port)));
    await waitUntil(() => server.gateway.size === 5, 'five accepted');
    const sixth = watch(open(server.port));
    await waitUntil(() => sixth.closed, 'the sixth refused');
    assert.equal(readBody(sixth.frames[0]!, Bodies.error).code, ErrorCode.overloaded);
    const other = watch(open(server.port, '127.0.0.2'));
    await waitUntil(() => server.gateway.size === 6, 'another address admitted');
    assert.equal(other.closed || first.some((s) => s.closed), false);
  });

  it('counts TLS connections from the TCP accept: handshakes beyond the limit are dropped', async () => {
    const { cert, key } = throwawayCertificate();
    server = await startTestServer({ gateway: { maxConnections: 3 }, tls: { port: await freePort(), options: { cert, key } } });
    // TCP connections to the TLS port that never start a handshake.
    const held = Array.from({ length: 10 }, () => watch(open(server.tlsPort!)));
    await waitUntil(() => held.filter((s) => s.closed).length === 7, 'seven dropped');
  });

  it('starts the login deadline of a TLS connection at the TCP accept, not after the handshake', async () => {
    const { cert, key } = throwawayCertificate();
    const clock = new ManualClock();
    server = await startTestServer({ clock, tls: { port: await freePort(), options: { cert, key } } });
    const tcp = open(server.tlsPort!);
    await new Promise((resolve) => tcp.once('connect', resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
    clock.advance(9_000);
    const secure = connectTls({ socket: tcp, ca: cert, servername: 'localhost' });
    const seen = watch(secure);
    await new Promise((resolve) => secure.once('secureConnect', resolve));
    secure.write(hello);
    await waitUntil(() => seen.frames.length === 1, 'serverHello');
    server.gateway.tick(clock.advance(1_500));
    await waitUntil(() => seen.closed, 'closed at the deadline');
    const error = readBody(seen.frames.find((f) => f.opcode === Opcode.error)!, Bodies.error);
    assert.equal(error.code, ErrorCode.loginTimeout);
  });
});
