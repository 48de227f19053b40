/**
 * Viewers of the rooms bench in one process: connects `count` devices from 127.0.0.x source
 * addresses, registers each and joins the room, then reads. Most viewers read frames by header
 * only (length and opcode, the body skipped without a copy), so this side keeps up with the
 * server; the sampled ones decode every batch and record send → receive latency from the send
 * time in each message's content. Driven over IPC by the bench: `reset` starts a measurement,
 * `report` answers what was counted since.
 */
import { connect, type Socket } from 'node:net';
import { encodeFrame, FrameDecoder, readBody, type Frame } from '../../codec/index.ts';
import { Bodies, Platform } from '../../protocol/bodies.ts';
import { Opcode } from '../../protocol/opcodes.ts';

export interface ViewerPlan {
  readonly port: number;
  readonly count: number;
  readonly sampled: number;
  readonly roomId: string;
  readonly tag: string;
  /** Source addresses 127.0.0.<first> … <first + spread − 1>. */
  readonly firstAddress: number;
  readonly spread: number;
}

export interface ViewerReport {
  readonly joined: number;
  readonly closed: number;
  readonly frames: number;
  readonly bytes: number;
  readonly sampledMessages: number;
  readonly sampledReliable: number;
  readonly sampledDropped: number;
  /** Dropped counts in the headers every viewer read (sampled or not). */
  readonly droppedSeen: number;
  readonly latenciesMs: number[];
}

const plan = JSON.parse(process.argv[2] as string) as ViewerPlan;
let joined = 0;
let closed = 0;
let frames = 0;
let bytes = 0;
let sampledMessages = 0;
let sampledReliable = 0;
let sampledDropped = 0;
let droppedSeen = 0;
let latencies: number[] = [];

function handshake(socket: Socket, userId: string): void {
  socket.write(encodeFrame(Opcode.hello, 1, Bodies.hello, { version: 1, client: 'bench' }));
  socket.write(encodeFrame(Opcode.register, 2, Bodies.register, { userId, password: 'pw', deviceId: `${userId}-d`, platform: Platform.android }));
}

/** Setup by header: session (request 2) → join (request 3); roomJoined → joined. */
function onSetupFrame(socket: Socket, opcode: number, requestId: number, done: () => void): void {
  if (opcode === Opcode.session && requestId === 2) socket.write(encodeFrame(Opcode.roomJoin, 3, Bodies.roomJoin, { roomId: plan.roomId }));
  else if (opcode === Opcode.roomJoined && requestId === 3) done();
  else if (opcode === Opcode.error && requestId <= 3) socket.destroy();
}

/** Frames are counted from their headers; bodies are skipped as they stream past. */
function headerReader(socket: Socket, done: () => void): (chunk: Buffer) => void {
  const header = Buffer.alloc(16);
  let filled = 0;
  let skip = 0;
  return (chunk) => {
    bytes += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - offset);
        skip -= n;
        offset += n;
        continue;
      }
      const n = Math.min(16 - filled, chunk.length - offset);
      chunk.copy(header, filled, offset, offset + n);
      filled += n;
      offset += n;
      if (filled < 16) break;
      filled = 0;
      skip = header.readUInt32BE(0) - 16;
      const opcode = header.readUInt16BE(6);
      if (opcode === Opcode.roomPush) {
        frames++;
        droppedSeen += header.readUInt32BE(8);
      }
      else onSetupFrame(socket, opcode, header.readUInt32BE(8), done);
    }
  };
}

function sampledReader(socket: Socket, done: () => void): (chunk: Buffer) => void {
  const decoder = new FrameDecoder({ maxFrameSize: 1 << 20, maxRawBodySize: 8 << 20 });
  const onFrame = (frame: Frame) => {
    if (frame.opcode !== Opcode.roomPush) return onSetupFrame(socket, frame.opcode, frame.requestId, done);
    frames++;
    sampledDropped += frame.requestId;
    droppedSeen += frame.requestId;
    const now = performance.timeOrigin + performance.now();
    for (const message of readBody(frame, Bodies.roomPush).messages) {
      sampledMessages++;
      if (message.seq > 0) sampledReliable++;
      const sentAt = Number(message.content.slice(0, message.content.indexOf(' ')));
      if (sentAt > 0) latencies.push(now - sentAt);
    }
  };
  return (chunk) => {
    bytes += chunk.length;
    decoder.push(chunk, onFrame);
  };
}

function open(index: number): Promise<void> {
  return new Promise((resolve) => {
    const localAddress = `127.0.0.${plan.firstAddress + (index % plan.spread)}`;
    const socket = connect({ host: '127.0.0.1', port: plan.port, localAddress, noDelay: true });
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      joined++;
      resolve();
    };
    const read = index < plan.sampled ? sampledReader(socket, done) : headerReader(socket, done);
    socket.on('data', read);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed++;
      if (!settled) {
        settled = true;
        resolve();
      }
    });
    socket.on('connect', () => handshake(socket, `${plan.tag}-${index}`));
  });
}

async function openAll(): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < plan.count; i++) {
    const opening = open(i).then(() => void inFlight.delete(opening));
    inFlight.add(opening);
    if (inFlight.size >= 64) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

process.on('message', (message: string) => {
  if (message === 'reset') {
    frames = 0;
    bytes = 0;
    sampledMessages = 0;
    sampledReliable = 0;
    sampledDropped = 0;
    droppedSeen = 0;
    latencies = [];
  } else if (message === 'report') {
    const report: ViewerReport = { joined, closed, frames, bytes, sampledMessages, sampledReliable, sampledDropped, droppedSeen, latenciesMs: latencies };
    process.send?.({ report });
  } else if (message === 'exit') {
    process.exit(0);
  }
});

await openAll();
process.send?.({ ready: joined });
