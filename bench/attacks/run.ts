/**
 * Hostile-input attacks against a real server process, each on a fresh server while a victim
 * connection pings: prints the victim's ping round trips (p50, p99, max) and the server's RSS
 * (before, peak from VmHWM, growth). Goal: no attack moves the victim's p99 above 50 ms or the
 * server's RSS by more than 64 MiB.
 *
 *   npm run attacks -- [bomb] [expand] [bytewise] [prelogin] [pages] [guess]
 *
 * The server is `server/main.ts` of the working directory, so running this file from another
 * checkout measures that checkout's server with the same attacks.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFrame, FrameDecoder } from '../../codec/index.ts';
import { Bodies, Platform } from '../../protocol/bodies.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import { freePort, spawnServer, stopProcess } from '../../spec/support/process.ts';
import { compressedFrame, rawFrame, str32 } from './frames.ts';
import { guessAttack, pagesAttack } from './app-attacks.ts';

const MiB = 1024 * 1024;
const ATTACK_CAP_MS = 60_000;

interface Attack {
  readonly name: string;
  readonly what: string;
  readonly serverArgs?: readonly string[];
  run(port: number): Promise<string>;
}

/** A raw attacking connection that counts the error codes it gets back and notices the close. */
class Attacker {
  readonly socket: Socket;
  readonly errors: number[] = [];
  sessions = 0;
  closed = false;
  private readonly decoder = new FrameDecoder({ maxFrameSize: 64 * MiB });
  private readonly ready: Promise<void>;

  constructor(port: number, localAddress?: string) {
    this.socket = connect({ host: '127.0.0.1', port, noDelay: true, ...(localAddress ? { localAddress } : {}) });
    this.ready = new Promise((resolve) => this.socket.once('connect', () => resolve()));
    this.socket.on('data', (chunk: Buffer) =>
      this.decoder.push(chunk, (frame) => {
        if (frame.opcode === Opcode.error) this.errors.push(errorCode(frame.body));
        if (frame.opcode === Opcode.session) this.sessions++;
      }),
    );
    const done = () => (this.closed = true);
    this.socket.on('close', done);
    this.socket.on('error', done);
  }

  async open(): Promise<this> {
    await this.ready;
    return this;
  }

  /** Writes and waits until the bytes left this process (or the socket closed). */
  send(bytes: Buffer): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.socket.write(bytes, () => resolve()));
  }

  /** Resolves after `replies` error frames, the close, or `ms`. */
  async settle(replies: number, ms: number): Promise<void> {
    const until = performance.now() + ms;
    while (!this.closed && this.errors.length + this.sessions < replies && performance.now() < until) await sleep(5);
  }
}

/** The code of an error body [code, message, retry] without a msgpack decoder. */
function errorCode(body: Buffer): number {
  const tag = body[1];
  if (tag === undefined) return -1;
  if (tag < 0x80) return tag;
  if (tag === 0xcd) return body.readUInt16BE(2);
  return -1;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const helloFrame = (id: number) => rawFrame(Opcode.hello, id, Buffer.from([0x92, 0x01, 0xa1, 0x61]));

const attacks: Attack[] = [
  {
    name: 'bomb',
    what: 'hello with an LZ4 block of 8 MiB of 0x91 (arrays nested 8M deep), 3 times, reconnecting when closed',
    async run(port) {
      const frame = compressedFrame(Opcode.hello, 1, Buffer.alloc(8 * MiB, 0x91));
      const codes: number[] = [];
      let connections = 0;
      for (let sent = 0; sent < 3; ) {
        const attacker = await new Attacker(port).open();
        connections++;
        while (!attacker.closed && sent < 3) {
          await attacker.send(frame);
          sent++;
          await attacker.settle(attacker.errors.length + 1, 20_000);
        }
        codes.push(...attacker.errors);
        attacker.socket.destroy();
      }
      return `frame ${frame.length} B; ${connections} connection(s); replies ${codes.join(',') || 'none'}`;
    },
  },
  {
    name: 'expand',
    what: '150 frames before login, each an LZ4 block expanding to an 8 MiB string, reconnecting when closed',
    async run(port) {
      const frame = compressedFrame(Opcode.hello, 1, str32(8 * MiB - 5));
      const codes: number[] = [];
      let connections = 0;
      let sent = 0;
      while (sent < 150) {
        const attacker = await new Attacker(port).open();
        connections++;
        while (!attacker.closed && sent < 150) {
          await attacker.send(frame);
          sent++;
          // Keep a few frames in flight, as a pipelining attacker would.
          if (sent % 5 === 0) await attacker.settle(attacker.errors.length + 5, 200);
        }
        await attacker.settle(Infinity, 200);
        codes.push(...attacker.errors);
        attacker.socket.destroy();
      }
      return `frame ${frame.length} B; ${connections} connection(s); ${codes.length} replies (${[...new Set(codes)].join(',')})`;
    },
  },
  {
    name: 'bytewise',
    what: 'one 250 KB hello frame (within the request size) written one byte per write',
    async run(port) {
      const body = Buffer.concat([Buffer.from([0x92, 0x01]), str32(250_000 - 16 - 7)]);
      const frame = rawFrame(Opcode.hello, 1, body);
      const attacker = await new Attacker(port).open();
      let written = 0;
      while (written < frame.length && !attacker.closed) {
        // Separate writes on an idle socket are separate send() calls, so the server reads them
        // one small segment at a time; yield now and then so the bytes actually flow.
        const end = Math.min(frame.length, written + 256);
        for (; written < end; written++) attacker.socket.write(frame.subarray(written, written + 1));
        await new Promise((resolve) => setImmediate(resolve));
        if (attacker.socket.writableLength > 0) await new Promise((resolve) => attacker.socket.once('drain', resolve));
      }
      await attacker.settle(1, 20_000);
      attacker.socket.destroy();
      return `frame ${frame.length} B, ${written} one-byte writes; replies ${attacker.errors.join(',') || 'none'}${attacker.closed ? '; closed by server' : ''}`;
    },
  },
  {
    name: 'prelogin',
    what: 'with --max-connections 2000: 5,000 connections from 20 addresses that say hello and never log in, then a legitimate login from another address',
    serverArgs: ['--max-connections', '2000'],
    async run(port) {
      const open: Attacker[] = [];
      for (let i = 0; i < 5_000; i += 250) {
        const batch = await Promise.all(Array.from({ length: 250 }, () => new Attacker(port, `127.0.1.${1 + i / 250}`).open()));
        for (const attacker of batch) void attacker.send(helloFrame(1));
        open.push(...batch);
      }
      await sleep(500);
      const alive = open.filter((a) => !a.closed).length;
      const legit = await new Attacker(port, '127.0.0.2').open();
      await legit.send(helloFrame(7));
      await legit.send(encodeFrame(Opcode.register, 8, Bodies.register, { userId: 'legit', password: 'legit-pw', deviceId: 'd', platform: Platform.ios }));
      await legit.settle(1, 1_000);
      const verdict = legit.closed || legit.errors.length > 0 ? `refused (${legit.errors.join(',') || 'closed'})` : legit.sessions > 0 ? 'logged in' : 'not answered in 1 s';
      legit.socket.destroy();
      for (const attacker of open) attacker.socket.destroy();
      return `${alive} of ${open.length} pre-login connections held open; a legitimate client is ${verdict}`;
    },
  },
  pagesAttack,
  guessAttack,
];

function memoryKb(pid: number, field: 'VmRSS' | 'VmHWM' | 'RssAnon'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

interface VictimReport {
  rtts: number[];
  unanswered: number;
  closed: boolean;
}

async function stopVictim(victim: ChildProcess): Promise<VictimReport> {
  const result = new Promise<VictimReport>((resolve) => victim.once('message', (m) => resolve(m as VictimReport)));
  victim.send('stop');
  const out = await result;
  await stopProcess(victim);
  return out;
}

async function runAttack(attack: Attack): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tern-attack-'));
  const port = await freePort();
  const server = await spawnServer(['--workers', '1', '--data-dir', dataDir, ...(attack.serverArgs ?? [])], port);
  const pid = server.child.pid as number;
  try {
    const victim = fork(new URL('./victim.ts', import.meta.url), [String(port)], { execArgv: ['--import', 'tsx'] });
    await new Promise((resolve) => victim.once('message', resolve));
    await sleep(1_000);
    const rssBefore = memoryKb(pid, 'VmRSS');
    const hwmBefore = memoryKb(pid, 'VmHWM');
    victim.send('reset');
    // VmHWM already holds the scrypt of the victim's registration; sample RSS too, and trust the
    // high-water mark only when the attack raised it.
    let sampled = rssBefore;
    // RssAnon leaves out file pages (LMDB's memory map), which the kernel can drop at will.
    const anonBefore = memoryKb(pid, 'RssAnon');
    let anonPeak = anonBefore;
    const sampler = setInterval(() => {
      sampled = Math.max(sampled, memoryKb(pid, 'VmRSS'));
      anonPeak = Math.max(anonPeak, memoryKb(pid, 'RssAnon'));
    }, 10);
    const started = performance.now();
    const outcome = await Promise.race([attack.run(port), sleep(ATTACK_CAP_MS).then(() => `stopped at the ${ATTACK_CAP_MS / 1000} s cap`)]);
    const seconds = (performance.now() - started) / 1000;
    await sleep(500);
    const { rtts, unanswered, closed } = await stopVictim(victim);
    clearInterval(sampler);
    const hwm = memoryKb(pid, 'VmHWM');
    const peak = hwm > hwmBefore ? hwm : sampled;
    const sorted = rtts.sort((a, b) => a - b);
    const alive = server.child.exitCode === null && server.child.signalCode === null;
    console.log(`\n${attack.name}: ${attack.what}`);
    console.log(`  attack ${seconds.toFixed(1)} s: ${outcome}`);
    console.log(
      `  victim ping ms: n=${sorted.length} p50=${percentile(sorted, 50).toFixed(1)} p99=${percentile(sorted, 99).toFixed(1)} max=${(sorted.at(-1) ?? NaN).toFixed(1)}` +
        `${unanswered ? ` (${unanswered} unanswered)` : ''}${closed ? ' (victim disconnected)' : ''}`,
    );
    console.log(
      `  server RSS MiB: before ${(rssBefore / 1024).toFixed(0)}, peak ${(peak / 1024).toFixed(0)}, growth ${((peak - rssBefore) / 1024).toFixed(0)} ` +
        `(anonymous memory sampled every 10 ms: growth ${((anonPeak - anonBefore) / 1024).toFixed(0)}); server ${alive ? 'up' : 'DOWN'}`,
    );
    const p99 = percentile(sorted, 99);
    console.log(`  goal (p99 ≤ 50 ms, growth ≤ 64 MiB): ${p99 <= 50 && peak - rssBefore <= 64 * 1024 && alive ? 'met' : 'MISSED'}`);
  } finally {
    await stopProcess(server.child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const wanted = process.argv.slice(2);
const selected = wanted.length ? attacks.filter((a) => wanted.includes(a.name)) : attacks;
if (selected.length === 0) throw new Error(`no attack named ${wanted.join(', ')}; available: ${attacks.map((a) => a.name).join(', ')}`);
console.log(`attacks on node ${process.version}, one fresh server process (--workers 1) per attack`);
for (const attack of selected) await runAttack(attack);
