/**
 * One run of the rooms bench: a server process (batched fan-out or the naive baseline), viewer
 * processes holding the room's viewers, and senders at a fixed rate in this process. Server
 * figures come from the server itself (its room counters and process.cpuUsage), viewer figures
 * from the viewer processes.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startClusterServer } from './cluster-server.ts';
import type { FlushTimings } from './flush-timing.ts';
import type { ServerSnapshot, ServerStats } from './room-server.ts';
import { openSenders } from './senders.ts';
import type { ViewerPlan, ViewerReport } from './viewer-process.ts';

export interface RoomPlan {
  readonly viewers: number;
  readonly viewerProcesses: number;
  /** Viewers per process that decode every batch (the latency sample). */
  readonly sampledPerProcess: number;
  readonly senders: number;
  readonly messagesPerSecond: number;
  readonly seconds: number;
  /** Gateway worker processes; above 1 the server is `server/main.ts --workers N` (batched fan-out only). */
  readonly workers: number;
  /**
   * The sampled viewers in a small process of their own, joined interleaved with the others so
   * they sit spread over the server's write order (the server still writes to every viewer).
   */
  readonly samplerProcess: boolean;
  /** Share of the (non-sampled) viewers that stop reading for `stallMs` when the measurement starts. */
  readonly slowShare: number;
  readonly stallMs: number;
  /** Words of comment per message (5: about 40 bytes of content). */
  readonly words: number;
  /** Viewer output bounds for the server (SPEC §19.5); its defaults when absent. */
  readonly viewerBounds?: { readonly queueBytes: number; readonly maxBytes: number; readonly slowViewerMs: number };
}

/** What the slow viewers got: the reliable messages each holds against the room's latest seq. */
export interface SlowResult {
  readonly viewers: number;
  readonly latestSeq: number;
  /** Reliable messages held, summed over the slow viewers, against viewers × latestSeq. */
  readonly held: number;
  readonly complete: number;
  readonly duplicates: number;
  readonly removed: number;
  readonly rejoins: number;
  readonly pulls: number;
  readonly dropped: number;
  /** The same for the sampled viewers (which kept reading). */
  readonly sampledHeld: number;
  readonly sampledViewers: number;
  /** From the end of the sends until every slow viewer held every reliable message (or the deadline). */
  readonly catchUpMs: number;
  readonly sendErrors: number;
}

export interface RoomResult {
  readonly mode: 'batched' | 'naive';
  readonly viewers: number;
  readonly sent: number;
  readonly seconds: number;
  readonly server: ServerStats;
  readonly viewerFrames: number;
  readonly viewerBytes: number;
  readonly sampledViewers: number;
  readonly sampledMessages: number;
  readonly sampledDropped: number;
  readonly latenciesMs: number[];
  /** The sampled latencies split at the message's server time: sender → logic, logic → viewer read. */
  readonly upstreamMs: number[];
  readonly downstreamMs: number[];
  /** Server-side flush timings and event-loop delay (one server process only). */
  readonly timings: FlushTimings | undefined;
  /** CPU-seconds of all viewer processes over the run. */
  readonly viewerCpuSeconds: number;
  /** Event-loop delay p99 of each viewer process, ms. */
  readonly viewerLagP99: number[];
  readonly samplerProcess: boolean;
  readonly slow: SlowResult | undefined;
  readonly sendErrors: number;
  /** Deliveries and bytes counted by the server (one process) or derived from the viewers (workers). */
  readonly countedBy: 'server' | 'viewers';
  readonly workers: number;
}

/** The server under test: its port, a snapshot of its counters, and a stop. */
interface ServerHandle {
  readonly port: number;
  snapshot(): Promise<ServerSnapshot>;
  reset(): void;
  stop(): Promise<void>;
}

const NO_COUNTS = { deliveries: 0, frames: 0, bytes: 0, dropped: 0, removed: 0, encodes: 0, userSeconds: NaN, systemSeconds: NaN };
const NO_TIMINGS: FlushTimings = { batches: 0, waitP50: NaN, waitP99: NaN, writeP50: NaN, writeP99: NaN, writeMax: NaN, lagP50: NaN, lagP99: NaN };

async function startServer(mode: 'batched' | 'naive', plan: RoomPlan): Promise<ServerHandle> {
  if (plan.workers > 1) {
    const cluster = await startClusterServer(plan.workers);
    return { port: cluster.port, snapshot: async () => ({ stats: { ...NO_COUNTS, cpuSeconds: cluster.cpuSeconds() }, timings: NO_TIMINGS }), reset: () => undefined, stop: () => cluster.stop() };
  }
  const bounds = plan.viewerBounds ? [JSON.stringify(plan.viewerBounds)] : [];
  const server = forkTs('./room-server.ts', [mode, ...bounds]);
  const port = await next<number>(server, 'port');
  return {
    port,
    snapshot: () => {
      server.send('stats');
      return next<ServerSnapshot>(server, 'snapshot');
    },
    reset: () => server.send('reset'),
    stop: () =>
      new Promise((resolve) => {
        if (server.exitCode !== null) return resolve();
        server.once('exit', () => resolve());
        server.send('stop');
        setTimeout(() => server.kill('SIGKILL'), 5_000).unref();
      }),
  };
}

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

function forkTs(file: string, args: string[]): ChildProcess {
  const child = fork(here(file), args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  // The bench waits on each child many times (one exit listener per wait, removed with it).
  child.setMaxListeners(0);
  return child;
}

function next<T>(child: ChildProcess, key: string, timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${key} from child in ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: Record<string, unknown>) => {
      if (!(key in message)) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message[key] as T);
    };
    const onExit = (code: number | null) => reject(new Error(`child exited with ${code} before ${key}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function diff(after: ServerStats, before: ServerStats): ServerStats {
  const out = { ...after };
  for (const key of Object.keys(after) as (keyof ServerStats)[]) out[key] = after[key] - before[key];
  return out;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function progress(mode: string, what: string): void {
  process.stderr.write(`  [${mode}] ${what}\n`);
}

function viewerPlans(plan: RoomPlan, mode: string, port: number): ViewerPlan[] {
  const perProcess = Math.ceil(plan.viewers / plan.viewerProcesses);
  const sampled = plan.sampledPerProcess * plan.viewerProcesses;
  const plans: ViewerPlan[] = [];
  for (let p = 0; p < plan.viewerProcesses; p++) {
    const count = Math.min(perProcess, plan.viewers - p * perProcess);
    const inProcess = plan.samplerProcess ? 0 : plan.sampledPerProcess;
    const slow = Math.round((count - inProcess) * plan.slowShare);
    plans.push({ port, count, sampled: inProcess, roomId: 'live', tag: `${mode}-p${p}`, firstAddress: 2 + p * 50, spread: 50, staged: plan.samplerProcess, slow, stallMs: plan.stallMs });
  }
  if (plan.samplerProcess) plans.push({ port, count: sampled, sampled, roomId: 'live', tag: `${mode}-sampler`, firstAddress: 2 + plan.viewerProcesses * 50, spread: 10, staged: true, slow: 0, stallMs: 0 });
  return plans;
}

async function openStaged(viewers: ChildProcess[], plans: readonly ViewerPlan[]): Promise<number> {
  const sampler = viewers[viewers.length - 1] as ChildProcess;
  const steps = (plans[plans.length - 1] as ViewerPlan).count;
  const opens = async (child: ChildProcess, n: number) => {
    child.send({ open: n });
    return next<number>(child, 'opened');
  };
  const counts: number[] = [];
  for (let step = 0; step < steps; step++) {
    // Each big process opens its next share, then the sampler one viewer: sampler k joins after about k/steps of the room.
    const share = await Promise.all(viewers.slice(0, -1).map((child, i) => opens(child, Math.ceil((plans[i] as ViewerPlan).count / steps))));
    const last = await opens(sampler, 1);
    counts.splice(0, counts.length, ...share, last);
  }
  return counts.reduce((a, b) => a + b, 0);
}

async function reportAll(viewers: ChildProcess[]): Promise<ViewerReport[]> {
  return Promise.all(
    viewers.map((v) => {
      v.send('report');
      return next<ViewerReport>(v, 'report');
    }),
  );
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/** After the sends: waits (bounded) until every slow viewer holds every reliable message the room has. */
async function awaitSlow(viewers: ChildProcess[], expected: number, deadlineMs: number): Promise<{ reports: ViewerReport[]; catchUpMs: number }> {
  const started = performance.now();
  for (;;) {
    const reports = await reportAll(viewers);
    const latest = Math.max(expected, ...reports.map((r) => r.latestSeq));
    const complete = reports.every((r) => r.slowReliable.every((n) => n >= latest));
    const elapsed = performance.now() - started;
    if (complete || elapsed >= deadlineMs) return { reports, catchUpMs: elapsed };
    await sleep(100);
  }
}

function slowResult(reports: readonly ViewerReport[], expected: number, catchUpMs: number, sendErrors: number): SlowResult {
  // The reliable sends every one of which the room's log holds (the run's send errors are reported beside).
  const latestSeq = Math.max(expected, ...reports.map((r) => r.latestSeq));
  const slowHeld = reports.flatMap((r) => r.slowReliable);
  const sampledHeld = reports.flatMap((r) => r.sampledReliableSeqs);
  return {
    viewers: slowHeld.length,
    latestSeq,
    held: sum(slowHeld),
    complete: slowHeld.filter((n) => n >= latestSeq).length,
    duplicates: sum(reports.map((r) => r.slowDuplicates)),
    removed: sum(reports.map((r) => r.slowRemoved)),
    rejoins: sum(reports.map((r) => r.slowRejoins)),
    pulls: sum(reports.map((r) => r.slowPulls)),
    dropped: sum(reports.map((r) => r.slowDropped)),
    sampledHeld: sum(sampledHeld),
    sampledViewers: sampledHeld.length,
    catchUpMs,
    sendErrors,
  };
}

export async function measureRoom(plan: RoomPlan, mode: 'batched' | 'naive'): Promise<RoomResult> {
  const server = await startServer(mode, plan);
  const { port } = server;
  const viewers: ChildProcess[] = [];
  try {
    const plans = viewerPlans(plan, mode, port);
    for (const viewerPlan of plans) viewers.push(forkTs('./viewer-process.ts', [JSON.stringify(viewerPlan)]));
    const ready = await Promise.all(viewers.map((v) => next<number>(v, 'ready')));
    const joined = plan.samplerProcess ? await openStaged(viewers, plans) : ready.reduce((a, b) => a + b, 0);
    progress(mode, `${joined} viewers joined${plan.samplerProcess ? ' (sampled ones in their own process, spread over the join order)' : ''}`);
    const senders = await openSenders(port, plan.senders, `${mode}-s`, 'live', plan.words);
    await sleep(500);
    for (const v of viewers) v.send('reset');
    server.reset();
    const before = (await server.snapshot()).stats;
    const started = performance.now();
    const sent = await senders.run(plan.messagesPerSecond, plan.seconds);
    progress(mode, `${sent} sent`);
    // What was published in the window is written within a batch delay; a lagging server is not waited for.
    await sleep(200);
    const after = await server.snapshot();
    const seconds = (performance.now() - started) / 1000;
    const slowWait = plan.slowShare > 0 ? await awaitSlow(viewers, senders.reliableSent(), 10_000) : undefined;
    const reports = slowWait?.reports ?? (await reportAll(viewers));
    senders.close();
    const sampledViewers = plan.sampledPerProcess * plan.viewerProcesses;
    const sampledMessages = sum(reports.map((r) => r.sampledMessages));
    const viewerBytes = sum(reports.map((r) => r.bytes));
    const viewerFrames = sum(reports.map((r) => r.frames));
    const counted = diff(after.stats, before);
    // With workers the counters are in the worker processes: every viewer gets the same batches
    // (no header reported a drop), so deliveries are the sampled viewers' mean times the viewers.
    const fromViewers = plan.workers > 1;
    const droppedSeen = sum(reports.map((r) => r.droppedSeen));
    const stats = fromViewers
      ? { ...counted, deliveries: Math.round((sampledMessages / Math.max(sampledViewers, 1)) * joined), frames: viewerFrames, bytes: viewerBytes, dropped: droppedSeen }
      : counted;
    return {
      mode,
      viewers: joined + plan.senders,
      sent,
      seconds,
      server: stats,
      countedBy: fromViewers ? 'viewers' : 'server',
      workers: plan.workers,
      viewerFrames,
      viewerBytes,
      sampledViewers,
      sampledMessages,
      sampledDropped: sum(reports.map((r) => r.sampledDropped)),
      latenciesMs: reports.flatMap((r) => r.latenciesMs),
      upstreamMs: reports.flatMap((r) => r.upstreamMs),
      downstreamMs: reports.flatMap((r) => r.downstreamMs),
      timings: plan.workers > 1 ? undefined : after.timings,
      viewerLagP99: reports.map((r) => r.lagP99),
      viewerCpuSeconds: sum(reports.map((r) => r.cpuSeconds)),
      samplerProcess: plan.samplerProcess,
      slow: slowWait ? slowResult(slowWait.reports, senders.reliableSent(), slowWait.catchUpMs, senders.errors()) : undefined,
      sendErrors: senders.errors(),
    };
  } finally {
    for (const v of viewers) v.kill('SIGKILL');
    await server.stop();
  }
}
