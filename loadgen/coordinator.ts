/**
 * Splits a scenario over workers (local processes or agents on other hosts), prints progress
 * while it runs, merges counters and histograms, and produces the result.
 */
import type { CheckResult } from './checker.ts';
import { parseFault, scheduleFault, type FaultEvent } from './faults.ts';
import { mergeInto, newHistogram, percentiles, type Histogram, type Percentiles } from './histogram.ts';
import { emptyCounters, type Counters, type FinalReport, type ProgressReport, type WorkerMessage } from './messages.ts';
import type { Scenario } from './scenario.ts';
import { treeRss } from './server-memory.ts';
import { forkWorker, remoteWorker, type WorkerHandle } from './workers.ts';

export interface TimePoint {
  readonly t: number;
  readonly online: number;
  readonly sentPerSecond: number;
  readonly ackedPerSecond: number;
  readonly deliveredPerSecond: number;
  readonly connectsPerSecond: number;
  readonly ack: Percentiles;
  readonly deliver: Percentiles;
  readonly serverRssBytes: number | undefined;
}

export interface RunResult {
  readonly scenario: Scenario;
  readonly seconds: number;
  readonly counters: Counters;
  readonly failures: Record<string, number>;
  readonly check: CheckResult;
  readonly passed: boolean;
  readonly unackedAtEnd: number;
  readonly devices: number;
  readonly peakOnline: number;
  readonly connectRate: number;
  readonly ack: Percentiles;
  readonly deliver: Percentiles;
  readonly connect: Percentiles;
  readonly loadgenBytesPerDevice: number;
  readonly serverBytesPerConnection: number | undefined;
  readonly timeline: TimePoint[];
  /** Faults injected during the run (--fault), with when they happened. */
  readonly faults: FaultEvent[];
}

function sumCounters(reports: Iterable<{ counters: Counters }>): Counters {
  const total = emptyCounters();
  for (const { counters } of reports) for (const key of Object.keys(total) as (keyof Counters)[]) total[key] += counters[key];
  return total;
}

function sumCheck(finals: FinalReport[]): CheckResult {
  const keys = ['acked', 'expectedDeliveries', 'delivered', 'losses', 'duplicates', 'orderViolations', 'unacknowledgedDeliveries', 'misdelivered'] as const;
  const out = Object.fromEntries(keys.map((k) => [k, 0])) as Record<(typeof keys)[number], number>;
  for (const f of finals) for (const k of keys) out[k] += f.check[k];
  return out;
}

export async function runCoordinator(scenario: Scenario, agents: string[], log: (line: string) => void): Promise<RunResult> {
  const pairs = scenario.users / 2;
  const handles: WorkerHandle[] = Array.from({ length: scenario.workers }, (_, i) => (agents.length ? remoteWorker(agents[i % agents.length] as string) : forkWorker(`local ${i}`)));
  const latest = new Map<number, ProgressReport>();
  const finals: FinalReport[] = [];
  const totals = { ack: newHistogram(), deliver: newHistogram(), connect: newHistogram() };
  let interval = { ack: newHistogram(), deliver: newHistogram() };
  const timeline: TimePoint[] = [];
  const started = performance.now();
  const serverBaseline = scenario.serverPid ? treeRss(scenario.serverPid) : undefined;
  let peakOnline = 0;
  let previous = emptyCounters();
  let serverAtPeak: number | undefined;

  const onProgress = (p: ProgressReport) => {
    latest.set(p.index, p);
    for (const [total, part, encoded] of [
      [totals.ack, interval.ack, p.ackHistogram],
      [totals.deliver, interval.deliver, p.deliverHistogram],
    ] as [Histogram, Histogram, string][]) {
      mergeInto(total, encoded);
      mergeInto(part, encoded);
    }
    mergeInto(totals.connect, p.connectHistogram);
  };

  const tick = () => {
    const counters = sumCounters(latest.values());
    const online = [...latest.values()].reduce((n, p) => n + p.online, 0);
    const seconds = scenario.progressSeconds;
    const serverRss = scenario.serverPid ? treeRss(scenario.serverPid) : undefined;
    if (online >= peakOnline) {
      peakOnline = online;
      serverAtPeak = serverRss;
    }
    const point: TimePoint = {
      t: (performance.now() - started) / 1000,
      online,
      sentPerSecond: (counters.sent - previous.sent) / seconds,
      ackedPerSecond: (counters.acked - previous.acked) / seconds,
      deliveredPerSecond: (counters.delivered - previous.delivered) / seconds,
      connectsPerSecond: (counters.connected + counters.reconnects - previous.connected - previous.reconnects) / seconds,
      ack: percentiles(interval.ack),
      deliver: percentiles(interval.deliver),
      serverRssBytes: serverRss,
    };
    timeline.push(point);
    previous = counters;
    interval = { ack: newHistogram(), deliver: newHistogram() };
    const phases = [...new Set([...latest.values()].map((p) => p.phase))].join('/');
    log(
      `${point.t.toFixed(0).padStart(4)}s ${phases.padEnd(9)} online ${online} (+${point.connectsPerSecond.toFixed(0)}/s, failed ${counters.connectFailures}, drops ${counters.disconnects})` +
        ` · sent ${point.sentPerSecond.toFixed(0)}/s acked ${point.ackedPerSecond.toFixed(0)}/s delivered ${point.deliveredPerSecond.toFixed(0)}/s` +
        ` · ack p50 ${point.ack.p50.toFixed(1)} p99 ${point.ack.p99.toFixed(1)} ms · deliver p99 ${point.deliver.p99.toFixed(1)} ms` +
        (serverRss ? ` · server ${(serverRss / 2 ** 20).toFixed(0)} MiB` : ''),
    );
  };

  const fault = parseFault(scenario.fault, scenario.faultRedis);
  const faults: FaultEvent[] = [];
  let cancelFault = () => {};
  let ramped = 0;
  const done = new Promise<void>((resolve) => {
    let exited = 0;
    handles.forEach((handle, index) => {
      handle.on(
        (message: WorkerMessage) => {
          if (message.kind === 'progress') return onProgress(message);
          if (message.kind === 'final') {
            // A finished worker has closed its devices.
            const last = latest.get(message.index);
            if (last) latest.set(message.index, { ...last, online: 0 });
            return void finals.push(message);
          }
          // Messaging starts only when every worker's devices are up, so they are all online together.
          if (++ramped !== handles.length) return;
          for (const h of handles) h.go();
          if (fault) cancelFault = scheduleFault(fault, faults, log);
        },
        () => {
          if (++exited === handles.length) resolve();
        },
      );
      const firstPair = Math.floor((pairs * index) / handles.length);
      const endPair = Math.floor((pairs * (index + 1)) / handles.length);
      handle.start({
        kind: 'start',
        index,
        scenario,
        firstUser: firstPair * 2,
        endUser: endPair * 2,
        sourceAddress: scenario.sourceAddresses.length > 0 ? scenario.sourceAddresses[index % scenario.sourceAddresses.length] : undefined,
      });
    });
  });
  const progress = setInterval(tick, scenario.progressSeconds * 1000);
  await done;
  cancelFault();
  clearInterval(progress);
  tick();

  const check = sumCheck(finals);
  const devices = finals.reduce((n, f) => n + f.devices, 0);
  const rampSeconds = timeline.filter((p) => p.connectsPerSecond > 0).length * scenario.progressSeconds;
  const connected = sumCounters(finals).connected;
  return {
    scenario,
    seconds: (performance.now() - started) / 1000,
    counters: sumCounters(finals),
    failures: finals.reduce<Record<string, number>>((all, f) => {
      for (const [k, v] of Object.entries(f.failures)) all[k] = (all[k] ?? 0) + v;
      return all;
    }, {}),
    check,
    passed: finals.length === handles.length && check.losses === 0 && check.duplicates === 0 && check.orderViolations === 0 && check.misdelivered === 0,
    unackedAtEnd: finals.reduce((n, f) => n + f.unackedAtEnd, 0),
    devices,
    peakOnline,
    connectRate: rampSeconds > 0 ? connected / rampSeconds : 0,
    ack: percentiles(totals.ack),
    deliver: percentiles(totals.deliver),
    connect: percentiles(totals.connect),
    loadgenBytesPerDevice: devices > 0 ? finals.reduce((n, f) => n + f.rssBytes, 0) / devices : 0,
    serverBytesPerConnection: serverBaseline !== undefined && serverAtPeak !== undefined && peakOnline > 0 ? (serverAtPeak - serverBaseline) / peakOnline : undefined,
    timeline,
    faults,
  };
}
