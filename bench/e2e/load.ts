/**
 * Load on a running server from raw-frame devices: a closed loop (pairs, each sender keeping a
 * fixed number of sends in flight) and an open loop (many users sending at a fixed total rate).
 * Beside throughput and latency it reports the server's CPU seconds per 1,000 delivered messages
 * and the ping round trip of an idle device (how long the server's event loop keeps it waiting).
 */
import { RawDevice } from '../../spec/support/raw-device.ts';
import { treeCpuSeconds } from './server-cpu.ts';

export interface LoadResult {
  readonly delivered: number;
  readonly expected: number;
  readonly seconds: number;
  readonly serverCpuSeconds: number;
  readonly ackMs: number[];
  readonly deliverMs: number[];
  readonly pingMs: number[];
  readonly errors: number;
}

interface Target {
  readonly port: number;
  readonly serverPid: number;
  readonly tag: string;
}

async function pairUp(target: Target, pairs: number): Promise<{ senders: RawDevice[]; receivers: RawDevice[]; prober: RawDevice }> {
  const senders: RawDevice[] = [];
  const receivers: RawDevice[] = [];
  // A few registrations at a time: each costs the server a scrypt.
  for (let i = 0; i < pairs; i += 16) {
    const batch = Array.from({ length: Math.min(16, pairs - i) }, (_, k) => i + k);
    senders.push(...(await Promise.all(batch.map((n) => RawDevice.register(target.port, `${target.tag}s${n}`)))));
    receivers.push(...(await Promise.all(batch.map((n) => RawDevice.register(target.port, `${target.tag}r${n}`)))));
  }
  return { senders, receivers, prober: await RawDevice.register(target.port, `${target.tag}probe`) };
}

/** Pings every `everyMs` while running; returns the round trips when stopped. */
function probe(device: RawDevice, everyMs: number): () => number[] {
  const rtts: number[] = [];
  let outstanding = false;
  const timer = setInterval(() => {
    if (outstanding) return;
    outstanding = true;
    const t0 = performance.now();
    device.ping(() => {
      rtts.push(performance.now() - t0);
      outstanding = false;
    });
  }, everyMs);
  return () => {
    clearInterval(timer);
    return rtts;
  };
}

function measured(
  devices: { senders: RawDevice[]; receivers: RawDevice[]; prober: RawDevice },
  target: Target,
  expected: number,
  drive: (sentAt: Map<string, number>, ack: (t0: number, errorCode?: number) => void) => void,
  timeoutMs: number,
): Promise<LoadResult> {
  const sentAt = new Map<string, number>();
  const ackMs: number[] = [];
  const deliverMs: number[] = [];
  let delivered = 0;
  let errors = 0;
  return new Promise((resolve) => {
    const cpu0 = treeCpuSeconds(target.serverPid);
    const started = performance.now();
    const stopProbe = probe(devices.prober, 20);
    const finish = () => {
      clearTimeout(timer);
      const seconds = (performance.now() - started) / 1000;
      const serverCpuSeconds = treeCpuSeconds(target.serverPid) - cpu0;
      for (const d of [...devices.senders, ...devices.receivers, devices.prober]) d.close();
      resolve({ delivered, expected, seconds, serverCpuSeconds, ackMs, deliverMs, pingMs: stopProbe(), errors });
    };
    const timer = setTimeout(finish, timeoutMs);
    for (const receiver of devices.receivers) {
      receiver.onPush = (entry) => {
        const t0 = entry.message ? sentAt.get(entry.message.content) : undefined;
        if (t0 === undefined) return;
        sentAt.delete(entry.message?.content ?? '');
        deliverMs.push(performance.now() - t0);
        if (++delivered === expected) finish();
      };
    }
    drive(sentAt, (t0, errorCode) => {
      if (errorCode !== undefined) errors++;
      else ackMs.push(performance.now() - t0);
    });
  });
}

export interface ClosedLoopOptions {
  readonly pairs: number;
  readonly messagesPerSender: number;
  readonly inFlight: number;
  readonly payloadBytes: number;
}

export async function closedLoop(target: Target, options: ClosedLoopOptions): Promise<LoadResult> {
  const devices = await pairUp(target, options.pairs);
  const pad = 'x'.repeat(Math.max(0, options.payloadBytes - 24));
  return measured(
    devices,
    target,
    options.pairs * options.messagesPerSender,
    (sentAt, acked) => {
      devices.senders.forEach((sender, i) => {
        let next = 0;
        const sendOne = () => {
          if (next >= options.messagesPerSender) return;
          const n = next++;
          const content = `${target.tag}:${i}:${n}:${pad}`;
          const t0 = performance.now();
          sentAt.set(content, t0);
          sender.send(`c${n}`, `${target.tag}r${i}`, content, (_ack, errorCode) => {
            acked(t0, errorCode);
            sendOne();
          });
        };
        for (let k = 0; k < options.inFlight; k++) sendOne();
      });
    },
    120_000,
  );
}

export interface OpenLoopOptions {
  readonly users: number;
  readonly messagesPerSecond: number;
  readonly seconds: number;
  readonly payloadBytes: number;
}

/** Half the users send to the other half at a fixed total rate, spread evenly over time. */
export async function openLoop(target: Target, options: OpenLoopOptions): Promise<LoadResult> {
  const devices = await pairUp(target, options.users / 2);
  const pad = 'x'.repeat(Math.max(0, options.payloadBytes - 24));
  const total = Math.round(options.messagesPerSecond * options.seconds);
  return measured(
    devices,
    target,
    total,
    (sentAt, acked) => {
      const started = performance.now();
      let sent = 0;
      const tick = () => {
        const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * options.messagesPerSecond));
        while (sent < due) {
          const pair = sent % devices.senders.length;
          const n = sent++;
          const content = `${target.tag}:${pair}:${n}:${pad}`;
          const t0 = performance.now();
          sentAt.set(content, t0);
          devices.senders[pair]?.send(`c${n}`, `${target.tag}r${pair}`, content, (_ack, errorCode) => acked(t0, errorCode));
        }
        if (sent < total) setTimeout(tick, 1);
      };
      tick();
    },
    options.seconds * 1000 + 60_000,
  );
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
