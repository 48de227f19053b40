/**
 * Posting to a large group with part of it online, read-diffused (stored once, one push encode)
 * beside the same group write-diffused into every member's inbox, each on a fresh server process.
 * Viewers count pushes by header only, so the measuring side spends little CPU per delivery.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replyOf } from '../../spec/support/group-calls.ts';
import { freePort, spawnListening, stopProcess, type ServerProcess } from '../../spec/support/process.ts';
import { RawDevice } from '../../spec/support/raw-device.ts';
import { treeCpuSeconds } from '../e2e/server-cpu.ts';

export interface FanoutPlan {
  readonly members: number;
  readonly online: number;
  readonly messages: number;
  readonly inFlight: number;
}

export interface FanoutResult {
  readonly mode: 'read' | 'write';
  readonly deliveries: number;
  readonly seconds: number;
  readonly serverCpuSeconds: number;
  readonly storeWritesPerMessage: number;
  readonly encodesPerMessage: number;
}

interface Stats {
  readonly groupWrites: number;
  readonly encodes: number;
}

const BATCH = 100;
const DEADLINE_MS = 180_000;

async function stats(server: ServerProcess): Promise<Stats> {
  const before = server.output().length;
  server.child.kill('SIGUSR2');
  const started = Date.now();
  while (Date.now() - started < 5_000) {
    const line = server.output().slice(before).split('\n').find((l) => l.startsWith('stats '));
    if (line) return JSON.parse(line.slice(6)) as Stats;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the server did not report its stats');
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > DEADLINE_MS) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Posts `count` messages with at most `inFlight` unacknowledged. */
async function postMany(owner: RawDevice, groupId: string, tag: string, count: number, inFlight: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      replyOf(await owner.call('groupSend', { groupId, clientMsgId: `${tag}${i}`, kind: 1, content: 'x'.repeat(100) }), 'sendAck');
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

export async function measureFanout(mode: 'read' | 'write', plan: FanoutPlan): Promise<FanoutResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tern-groups-'));
  const port = await freePort();
  const offline = plan.members - plan.online - 1;
  const server = await spawnListening(
    'bench/groups/server.ts',
    ['--port', String(port), '--data-dir', dataDir, '--write-diffusion-max', mode === 'write' ? String(plan.members) : '0', '--offline-users', String(offline)],
    port,
    120_000,
  );
  const devices: RawDevice[] = [];
  try {
    const owner = await RawDevice.register(port, 'owner');
    devices.push(owner);
    const viewers: RawDevice[] = [];
    for (let i = 0; i < plan.online; i += BATCH) {
      const batch = await Promise.all(Array.from({ length: Math.min(BATCH, plan.online - i) }, (_, j) => RawDevice.register(port, `on${i + j}`)));
      for (const v of batch) v.decodePushes = false;
      viewers.push(...batch);
    }
    devices.push(...viewers);
    const everyone = [...viewers.map((_, i) => `on${i}`), ...Array.from({ length: offline }, (_, i) => `off${i}`)];
    const group = replyOf(await owner.call('groupCreate', { name: 'bench', members: everyone.slice(0, 100) }), 'groupInfo');
    for (let i = 100; i < everyone.length; i += 100) replyOf(await owner.call('groupInvite', { groupId: group.groupId, members: everyone.slice(i, i + 100) }), 'ok');
    const warm = 10;
    await postMany(owner, group.groupId, 'w', warm, plan.inFlight);
    await until(() => viewers.every((v) => v.pushesReceived >= 0 && v.pushesReceived >= warm), 'warm-up deliveries');
    const baseline = viewers.map((v) => v.pushesReceived);
    const statsBefore = await stats(server);
    const cpuBefore = treeCpuSeconds(server.child.pid as number);
    const started = performance.now();
    await postMany(owner, group.groupId, 'm', plan.messages, plan.inFlight);
    await until(() => viewers.every((v, i) => v.pushesReceived - (baseline[i] as number) >= plan.messages), 'every delivery');
    const seconds = (performance.now() - started) / 1000;
    const serverCpuSeconds = treeCpuSeconds(server.child.pid as number) - cpuBefore;
    const statsAfter = await stats(server);
    return {
      mode,
      deliveries: plan.online * plan.messages,
      seconds,
      serverCpuSeconds,
      storeWritesPerMessage: (statsAfter.groupWrites - statsBefore.groupWrites) / plan.messages,
      encodesPerMessage: (statsAfter.encodes - statsBefore.encodes) / plan.messages,
    };
  } finally {
    for (const d of devices) d.close();
    await stopProcess(server.child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
