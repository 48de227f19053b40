/**
 * Baseline for the end-to-end bench: the same framing and handshake, but no persistence, no
 * dedup, no window: a send is answered at once and relayed to the receiver's connection. What the
 * real server costs beyond this is the price of durability and reliability.
 */
import { createServer, type Socket } from 'node:net';
import { encodeFrame, FrameDecoder, readBody, type Frame } from '../../codec/index.ts';
import { Bodies, EntryType } from '../../protocol/bodies.ts';
import { Opcode } from '../../protocol/opcodes.ts';

const byUser = new Map<string, Socket>();
const counters = new Map<string, number>();
let messages = 0;
let sid = 0;

function next(key: string): number {
  const v = (counters.get(key) ?? 0) + 1;
  counters.set(key, v);
  return v;
}

function onFrame(socket: Socket, frame: Frame, self: { user: string }): void {
  const id = frame.requestId;
  switch (frame.opcode) {
    case Opcode.hello:
      return void socket.write(
        encodeFrame(Opcode.serverHello, id, Bodies.serverHello, {
          serverTime: Date.now(), heartbeatMs: 30_000, idleTimeoutMs: 75_000, loginDeadlineMs: 10_000,
          maxFrameSize: 1 << 20, maxRawBodySize: 8 << 20, compressThreshold: 1024, pushWindow: 64, server: 'relay',
        }),
      );
    case Opcode.register:
    case Opcode.login: {
      const body = frame.opcode === Opcode.login ? readBody(frame, Bodies.login) : readBody(frame, Bodies.register);
      self.user = body.userId;
      byUser.set(body.userId, socket);
      return void socket.write(encodeFrame(Opcode.session, id, Bodies.session, { userId: body.userId, deviceId: body.deviceId, token: 't', tokenExpiresAt: 0, version: 0, ackedVersion: 0 }));
    }
    case Opcode.sync:
      return void socket.write(encodeFrame(Opcode.syncPage, id, Bodies.syncPage, { entries: [], hasMore: false, lastVersion: 0, latestVersion: 0 }));
    case Opcode.ping:
      return void socket.write(encodeFrame(Opcode.pong, id, Bodies.pong, { serverTime: Date.now() }));
    case Opcode.send: {
      const send = readBody(frame, Bodies.send);
      const conversationId = self.user < send.to ? `p:${self.user}:${send.to}` : `p:${send.to}:${self.user}`;
      const now = Date.now();
      const seq = next(conversationId);
      const message = { messageId: `m${++messages}`, conversationId, seq, from: self.user, to: send.to, kind: send.kind, content: send.content, sentAt: now, clientMsgId: send.clientMsgId };
      socket.write(encodeFrame(Opcode.sendAck, id, Bodies.sendAck, { messageId: message.messageId, conversationId, seq, serverTime: now, version: 0 }));
      byUser.get(send.to)?.write(encodeFrame(Opcode.push, ++sid, Bodies.push, { version: next(`v:${send.to}`), type: EntryType.message, conversationId, seq, message }));
      return;
    }
    default:
      return;
  }
}

const server = createServer({ noDelay: true }, (socket) => {
  const decoder = new FrameDecoder();
  const self = { user: '' };
  socket.on('data', (chunk) => decoder.push(chunk, (frame) => onFrame(socket, frame, self)));
  socket.on('error', () => socket.destroy());
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const address = server.address();
  console.log(`tern listening on relay ${typeof address === 'object' && address ? address.port : 0}`);
});
