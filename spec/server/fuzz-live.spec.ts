/**
 * A live server under hostile traffic: several connections send random and mutated frames,
 * nested and expanding compressed bodies and one-byte writes, reconnecting whenever the server
 * closes them, while a legitimate pair keeps messaging. Seeded and bounded in frames and time.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../client/client.ts';
import { Platform } from '../../protocol/bodies.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import { Limits } from '../../protocol/timers.ts';
import { compressedFrame, rawFrame, str32 } from '../../bench/attacks/frames.ts';
import { Prng } from '../support/prng.ts';
import { freePort, spawnServer, stopProcess, type ServerProcess } from '../support/process.ts';
import { waitUntil } from '../support/server.ts';
import { frameVectors } from '../support/vectors.ts';

const ATTACKERS = 6;
// `npm run fuzz:long` raises both through the environment for the long run.
const FRAME_BUDGET = Number(process.env.FUZZ_FRAMES ?? 40_000);
const TIME_BUDGET_MS = Number(process.env.FUZZ_SECONDS ?? 20) * 1000;
const MESSAGES = 150;
const MiB = 1024 * 1024;

function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

const seeds = frameVectors.map((v) => Buffer.from(v.hex, 'hex'));
const hello = rawFrame(Opcode.hello, 1, Buffer.from([0x92, 0x01, 0xa1, 0x66]));
const bomb = compressedFrame(Opcode.send, 2, Buffer.alloc(Limits.maxRequestSize, 0x91));
const expanding = compressedFrame(Opcode.hello, 3, Buffer.concat([Buffer.from([0x92, 0x01]), str32(Limits.maxRequestSize - 7)]));
const oversized = compressedFrame(Opcode.ping, 4, Buffer.alloc(8 * MiB, 0x91));

/** One hostile frame (or byte string) chosen by the generator. */
function hostile(rng: Prng): { bytes: Buffer; byteWise: boolean } {
  const pick = rng.below(16);
  if (pick === 0) return { bytes: rng.bytes(1 + rng.below(64)), byteWise: false };
  if (pick === 1) return { bytes: bomb, byteWise: false };
  if (pick === 2) return { bytes: expanding, byteWise: false };
  if (pick === 3) return { bytes: oversized, byteWise: false };
  const frame = Buffer.from(seeds[rng.below(seeds.length)] as Buffer);
  const flips = rng.below(3);
  for (let i = 0; i < flips; i++) frame[rng.below(frame.length)] = rng.next() & 0xff;
  return { bytes: frame, byteWise: pick === 4 };
}

async function attack(port: number, rng: Prng, until: number, counted: { frames: number; connections: number }): Promise<void> {
  while (counted.frames < FRAME_BUDGET && performance.now() < until) {
    counted.connections++;
    const socket: Socket = connect({ host: '127.0.0.1', port, noDelay: true });
    let closed = false;
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve).once('close', resolve));
    if (rng.below(2) === 0) socket.write(hello);
    for (let n = 0; !closed && n < 200 && counted.frames < FRAME_BUDGET && performance.now() < until; n++) {
      const { bytes, byteWise } = hostile(rng);
      counted.frames++;
      if (byteWise) for (let i = 0; i < bytes.length; i++) socket.write(bytes.subarray(i, i + 1));
      else socket.write(bytes);
      // Let the bytes leave; an attacker that buffers locally tests nothing.
      await new Promise((resolve) => setImmediate(resolve));
      if (socket.writableLength > 64 * 1024) await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
    }
    socket.destroy();
  }
}

describe('live server under hostile input', function () {
  this.timeout(TIME_BUDGET_MS + 40_000);
  let server: ServerProcess | undefined;
  let dataDir = '';
  const clients: Client[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    if (server) await stopProcess(server.child);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it(`delivers every message of a legitimate pair while ${ATTACKERS} connections send up to ${FRAME_BUDGET.toLocaleString('en')} hostile frames, and stays up with bounded RSS`, async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tern-fuzz-'));
    const port = await freePort();
    server = await spawnServer(['--workers', '1', '--data-dir', dataDir, '--scrypt-cost', '1024'], port);
    const pid = server.child.pid as number;
    const client = (userId: string) => {
      const c = new Client({ endpoint: { host: '127.0.0.1', port }, userId, deviceId: `${userId}-d`, platform: Platform.ios, password: `pw-${userId}`, register: true, reconnect: { baseMs: 20, maxMs: 200 } });
      clients.push(c);
      return c;
    };
    const alice = client('alice');
    const bob = client('bob');
    await Promise.all([alice.connect(), bob.connect()]);
    const received = new Set<string>();
    bob.on('message', (m) => received.add(m.content));

    const baseline = rssKb(pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssKb(pid))), 20);
    const counted = { frames: 0, connections: 0 };
    const until = performance.now() + TIME_BUDGET_MS;
    const attackers = Array.from({ length: ATTACKERS }, (_, i) => attack(port, new Prng(20261202 + i), until, counted));
    const sent: string[] = [];
    for (let i = 0; i < MESSAGES; i++) {
      const content = `m${i}`;
      await alice.send('bob', content);
      sent.push(content);
    }
    await Promise.all(attackers);
    await waitUntil(() => received.size === MESSAGES, 'every message at bob', 15_000);
    clearInterval(sampler);

    if (process.env.FUZZ_VERBOSE) console.log(`  ${counted.frames} hostile frames over ${counted.connections} connections; RSS +${((peak - baseline) / 1024).toFixed(0)} MiB`);
    assert.deepEqual([...received].sort(), [...sent].sort());
    assert.equal(server.child.exitCode, null, 'server up');
    assert.ok(counted.frames >= 1_000, `only ${counted.frames} hostile frames sent`);
    assert.ok(peak - baseline < 64 * 1024, `RSS grew ${((peak - baseline) / 1024).toFixed(0)} MiB`);
  });
});
