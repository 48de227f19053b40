/**
 * The victim: a child process with its own event loop (so the attacker's client-side work does
 * not show in its figures) that registers, then pings every 10 ms whether or not earlier pings
 * were answered, so a stall of the server shows as many late pongs, not as one. On "stop" it
 * reports the round trips in ms, unanswered pings counted with the time they have waited.
 */
import { connect } from 'node:net';
import { encodeFrame, FrameDecoder } from '../../codec/index.ts';
import { Bodies, Platform } from '../../protocol/bodies.ts';
import { Opcode } from '../../protocol/opcodes.ts';

const port = Number(process.argv[2]);
const PING_EVERY_MS = 10;

const socket = connect({ host: '127.0.0.1', port, noDelay: true });
const decoder = new FrameDecoder();
const sentAt = new Map<number, number>();
const rtts: number[] = [];
let nextId = 1;
let ready = false;
let closed = false;

socket.on('data', (chunk: Buffer) => {
  decoder.push(chunk, (frame) => {
    if (frame.opcode === Opcode.serverHello) {
      socket.write(encodeFrame(Opcode.register, nextId++, Bodies.register, { userId: 'victim', password: 'victim-pw', deviceId: 'd1', platform: Platform.ios }));
    } else if (frame.opcode === Opcode.session) {
      ready = true;
      process.send?.({ ready: true });
    } else if (frame.opcode === Opcode.pong) {
      const at = sentAt.get(frame.requestId);
      if (at === undefined) return;
      sentAt.delete(frame.requestId);
      rtts.push(performance.now() - at);
    }
  });
});
socket.on('close', () => (closed = true));
socket.on('error', () => (closed = true));
socket.write(encodeFrame(Opcode.hello, nextId++, Bodies.hello, { version: 1, client: 'victim' }));

const timer = setInterval(() => {
  if (!ready || closed) return;
  const id = nextId++;
  sentAt.set(id, performance.now());
  socket.write(encodeFrame(Opcode.ping, id, Bodies.ping, {}));
}, PING_EVERY_MS);

process.on('message', (message: string) => {
  if (message === 'reset') {
    rtts.length = 0;
    return;
  }
  clearInterval(timer);
  const now = performance.now();
  const unanswered = [...sentAt.values()].map((at) => now - at);
  process.send?.({ rtts: [...rtts, ...unanswered], unanswered: unanswered.length, closed });
  socket.destroy();
  process.disconnect();
});
