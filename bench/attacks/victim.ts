/**
 * The victim: a child process with its own event loop (so the attacker's client-side work does
 * not show in its figures) that says hello and then pings every 10 ms, timing each round trip.
 * On "stop" it posts the round trips in ms and the number of pings left unanswered.
 */
import { connect } from 'node:net';
import { FrameDecoder } from '../../codec/frame-decoder.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import { rawFrame } from './frames.ts';

const port = Number(process.argv[2]);
const PING_EVERY_MS = 10;
const hello = Buffer.from([0x92, 0x01, 0xa6, ...Buffer.from('victim')]);
const emptyBody = Buffer.from([0x90]);

const socket = connect({ host: '127.0.0.1', port, noDelay: true });
const decoder = new FrameDecoder();
const sentAt = new Map<number, number>();
const rtts: number[] = [];
let nextId = 1;
let greeted = false;
let closed = false;

socket.on('data', (chunk: Buffer) => {
  decoder.push(chunk, (frame) => {
    if (frame.opcode === Opcode.serverHello) {
      greeted = true;
      process.send?.({ ready: true });
    }
    const at = sentAt.get(frame.requestId);
    if (frame.opcode === Opcode.pong && at !== undefined) {
      sentAt.delete(frame.requestId);
      rtts.push(performance.now() - at);
    }
  });
});
socket.on('close', () => (closed = true));
socket.on('error', () => (closed = true));
socket.write(rawFrame(Opcode.hello, nextId++, hello));

const timer = setInterval(() => {
  if (!greeted || closed) return;
  // One ping in flight at a time: a stalled server shows as one long round trip, not a queue.
  if (sentAt.size > 0) return;
  const id = nextId++;
  sentAt.set(id, performance.now());
  socket.write(rawFrame(Opcode.ping, id, emptyBody));
}, PING_EVERY_MS);

process.on('message', (message: string) => {
  if (message === 'reset') {
    rtts.length = 0;
    return;
  }
  clearInterval(timer);
  const now = performance.now();
  // A ping still unanswered counts with the time it has waited so far.
  const unanswered = [...sentAt.values()].map((at) => now - at);
  process.send?.({ rtts: [...rtts, ...unanswered], unanswered: unanswered.length, closed });
  socket.destroy();
  process.disconnect();
});
