/**
 * Viewers of the rooms bench in one process: connects `count` devices from 127.0.0.x source
 * addresses, registers each and joins the room, then reads. Most viewers read frames by header
 * only (length and opcode, the body skipped without a copy), so this side keeps up with the
 * server; the sampled ones decode every batch and record send → receive latency from the send
 * time in each message's content, split at the message's server time (upstream: sender to the
 * logic; downstream: the logic to this read). Slow viewers (`slow` of them, spread over the
 * process's viewers) stop reading for `stallMs` after `reset`, then read again: they decode every
 * batch, and on a gap in the reliable sequence, a roomLeft or a rejoin they pull what they missed
 * (SPEC §19.6), so the bench can count the reliable messages each of them got. Driven over IPC:
 * `{ open: n }` opens the next n viewers (staged plans), `reset` starts a measurement, `report`
 * answers what was counted since.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { connect, type Socket } from 'node:net';
import { encodeFrame, FrameDecoder, readBody, type Frame } from '../../codec/index.ts';
import { Bodies, Platform, type RoomMessageRecord } from '../../protocol/bodies.ts';
import { Opcode } from '../../protocol/opcodes.ts';

/** The delay histogram samples every this many ms and records the whole interval: the delay is the excess. */
const LAG_RESOLUTION_MS = 10;

export interface ViewerPlan {
  readonly port: number;
  readonly count: number;
  readonly sampled: number;
  readonly roomId: string;
  readonly tag: string;
  /** Source addresses 127.0.0.<first> … <first + spread − 1>. */
  readonly firstAddress: number;
  readonly spread: number;
  /** Viewers are opened on `{ open: n }` messages rather than all at once (to interleave processes in the join order). */
  readonly staged: boolean;
  /** Viewers that stop reading for `stallMs` after `reset` (none of the sampled ones). */
  readonly slow: number;
  readonly stallMs: number;
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
  readonly upstreamMs: number[];
  readonly downstreamMs: number[];
  /** This process's CPU since `reset`, seconds (user + system). */
  readonly cpuSeconds: number;
  /** This process's event-loop delay, ms. */
  readonly lagP50: number;
  readonly lagP99: number;
  /** Slow viewers: how many, the reliable seqs each holds (distinct), duplicates, removals seen, rejoins, pulls. */
  readonly slowViewers: number;
  readonly slowReliable: number[];
  readonly slowDuplicates: number;
  readonly slowRemoved: number;
  readonly slowRejoins: number;
  readonly slowPulls: number;
  readonly slowDropped: number;
  /** Reliable seqs each sampled viewer holds (distinct). */
  readonly sampledReliableSeqs: number[];
  /** The highest reliable seq any viewer here heard of. */
  readonly latestSeq: number;
}

const plan = JSON.parse(process.argv[2] as string) as ViewerPlan;
const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
lag.enable();
let joined = 0;
let closed = 0;
let frames = 0;
let bytes = 0;
let sampledMessages = 0;
let sampledReliable = 0;
let sampledDropped = 0;
let droppedSeen = 0;
let latencies: number[] = [];
let upstream: number[] = [];
let downstream: number[] = [];
let latestSeq = 0;
let cpuAtReset = process.cpuUsage();
const slowCounts = { removed: 0, rejoins: 0, pulls: 0, duplicates: 0, dropped: 0 };

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
      // A whole header in the chunk is read in place (the usual case); one split across chunks is gathered.
      let view = chunk;
      let at = offset;
      if (filled > 0 || chunk.length - offset < 16) {
        const n = Math.min(16 - filled, chunk.length - offset);
        chunk.copy(header, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled < 16) break;
        filled = 0;
        view = header;
        at = 0;
      } else offset += 16;
      skip = view.readUInt32BE(at) - 16;
      const opcode = view.readUInt16BE(at + 6);
      const requestId = view.readUInt32BE(at + 8);
      if (opcode === Opcode.roomPush) {
        frames++;
        droppedSeen += requestId;
      } else onSetupFrame(socket, opcode, requestId, done);
    }
  };
}

/** The reliable seqs a decoding viewer holds, and the pull that fills its gaps. */
class ReliableTracker {
  readonly seqs = new Set<number>();
  /** Every seq up to this one is held. */
  have = 0;
  private pulling = false;
  private nextRequest = 10;

  constructor(
    private readonly socket: Socket,
    private readonly counted: boolean,
  ) {}

  add(message: RoomMessageRecord): void {
    if (message.seq === 0) return;
    if (this.seqs.has(message.seq)) {
      if (this.counted) slowCounts.duplicates++;
      return;
    }
    this.seqs.add(message.seq);
    while (this.seqs.has(this.have + 1)) this.have++;
  }

  /** After a batch, a join or a page: pull while the room's seq is ahead of what is held. */
  heard(reliableSeq: number): void {
    if (reliableSeq > latestSeq) latestSeq = reliableSeq;
    if (this.pulling || reliableSeq <= this.have) return;
    this.pulling = true;
    if (this.counted) slowCounts.pulls++;
    this.socket.write(encodeFrame(Opcode.roomPull, this.nextRequest++, Bodies.roomPull, { roomId: plan.roomId, afterSeq: this.have }));
  }

  paged(page: { readonly messages: readonly RoomMessageRecord[]; readonly latestSeq: number }): void {
    this.pulling = false;
    for (const message of page.messages) this.add(message);
    this.heard(page.latestSeq);
  }

  /** A pull or join refused (say, the viewer was taken out meanwhile): the next batch or join tries again. */
  refused(): void {
    this.pulling = false;
  }

  rejoin(): void {
    if (this.counted) slowCounts.rejoins++;
    this.socket.write(encodeFrame(Opcode.roomJoin, this.nextRequest++, Bodies.roomJoin, { roomId: plan.roomId }));
  }
}

const sampledTrackers: ReliableTracker[] = [];
const slowTrackers: ReliableTracker[] = [];
const stalls: Socket[] = [];

function decodingReader(socket: Socket, done: () => void, kind: 'sampled' | 'slow'): (chunk: Buffer) => void {
  const decoder = new FrameDecoder({ maxFrameSize: 1 << 20, maxRawBodySize: 8 << 20 });
  const tracker = new ReliableTracker(socket, kind === 'slow');
  (kind === 'slow' ? slowTrackers : sampledTrackers).push(tracker);
  let ready = false;
  const onFrame = (frame: Frame) => {
    if (frame.opcode === Opcode.roomJoined && ready) return tracker.heard(readBody(frame, Bodies.roomJoined).reliableSeq);
    if (frame.opcode === Opcode.roomPage) return tracker.paged(readBody(frame, Bodies.roomPage));
    if (frame.opcode === Opcode.error && frame.requestId >= 10) return tracker.refused();
    if (frame.opcode === Opcode.roomLeft) {
      if (kind === 'slow') slowCounts.removed++;
      return tracker.rejoin();
    }
    if (frame.opcode !== Opcode.roomPush) {
      if (frame.opcode === Opcode.roomJoined) ready = true;
      return onSetupFrame(socket, frame.opcode, frame.requestId, done);
    }
    frames++;
    droppedSeen += frame.requestId;
    if (kind === 'slow') slowCounts.dropped += frame.requestId;
    else sampledDropped += frame.requestId;
    const now = performance.timeOrigin + performance.now();
    const body = readBody(frame, Bodies.roomPush);
    for (const message of body.messages) {
      tracker.add(message);
      if (kind === 'slow') continue;
      sampledMessages++;
      if (message.seq > 0) sampledReliable++;
      const sentAt = Number(message.content.slice(0, message.content.indexOf(' ')));
      if (sentAt > 0) {
        latencies.push(now - sentAt);
        upstream.push(message.sentAt - sentAt);
        downstream.push(now - message.sentAt);
      }
    }
    tracker.heard(body.reliableSeq);
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
    const others = plan.count - plan.sampled;
    // Slow viewers spread evenly over the non-sampled ones (so over the server's write order too).
    const slow = index >= plan.sampled && plan.slow > 0 && Math.floor(((index - plan.sampled) * plan.slow) / others) !== Math.floor(((index - plan.sampled + 1) * plan.slow) / others);
    const read = index < plan.sampled ? decodingReader(socket, done, 'sampled') : slow ? decodingReader(socket, done, 'slow') : headerReader(socket, done);
    if (slow) stalls.push(socket);
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

let opened = 0;

async function openNext(n: number): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  const end = Math.min(plan.count, opened + n);
  for (; opened < end; opened++) {
    const opening = open(opened).then(() => void inFlight.delete(opening));
    inFlight.add(opening);
    if (inFlight.size >= 64) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

function stall(): void {
  if (plan.slow === 0) return;
  for (const socket of stalls) socket.pause();
  setTimeout(() => {
    for (const socket of stalls) socket.resume();
  }, plan.stallMs);
}

process.on('message', (message: string | { open: number }) => {
  if (typeof message === 'object') {
    void openNext(message.open).then(() => process.send?.({ opened: joined }));
  } else if (message === 'reset') {
    frames = 0;
    bytes = 0;
    sampledMessages = 0;
    sampledReliable = 0;
    sampledDropped = 0;
    droppedSeen = 0;
    latencies = [];
    upstream = [];
    downstream = [];
    lag.reset();
    cpuAtReset = process.cpuUsage();
    stall();
  } else if (message === 'report') {
    const report: ViewerReport = {
      joined,
      closed,
      frames,
      bytes,
      sampledMessages,
      sampledReliable,
      sampledDropped,
      droppedSeen,
      latenciesMs: latencies,
      upstreamMs: upstream,
      downstreamMs: downstream,
      cpuSeconds: ((cpu) => (cpu.user + cpu.system) / 1e6)(process.cpuUsage(cpuAtReset)),
      lagP50: lag.percentile(50) / 1e6 - LAG_RESOLUTION_MS,
      lagP99: lag.percentile(99) / 1e6 - LAG_RESOLUTION_MS,
      slowViewers: slowTrackers.length,
      slowReliable: slowTrackers.map((t) => t.seqs.size),
      slowDuplicates: slowCounts.duplicates,
      slowRemoved: slowCounts.removed,
      slowRejoins: slowCounts.rejoins,
      slowPulls: slowCounts.pulls,
      slowDropped: slowCounts.dropped,
      sampledReliableSeqs: sampledTrackers.map((t) => t.seqs.size),
      latestSeq,
    };
    process.send?.({ report });
  } else if (message === 'exit') {
    process.exit(0);
  }
});

if (!plan.staged) await openNext(plan.count);
process.send?.({ ready: joined });
