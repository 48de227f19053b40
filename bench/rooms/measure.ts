/**
 * One run of the rooms bench: a server process (batched fan-out or the naive baseline), viewer
 * processes holding the room's viewers, and senders at a fixed rate in this process. Server
 * figures come from the server itself (its room counters and process.cpuUsage), viewer figures
 * from the viewer processes.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startClusterServer } from './cluster-server.ts';
import type { ServerStats } from './room-server.ts';
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
  readonly sendErrors: number;
  /** Deliveries and bytes counted by the server (one process) or derived from the viewers (workers). */
  readonly countedBy: 'server' | 'viewers';
  readonly workers: number;
}

/** The server under test: its port, a snapshot of its counters, and a stop. */
interface ServerHandle {
  readonly port: number;
  snapshot(): Promise<ServerStats>;
  stop(): Promise<void>;
}

const NO_COUNTS = { deliveries: 0, frames: 0, bytes: 0, dropped: 0, removed: 0, encodes: 0 };

async function startServer(mode: 'batched' | 'naive', workers: number): Promise<ServerHandle> {
  if (workers > 1) {
    const cluster = await startClusterServer(workers);
    return { port: cluster.port, snapshot: async () => ({ ...NO_COUNTS, cpuSeconds: cluster.cpuSeconds() }), stop: () => cluster.stop() };
  }
  const server = forkTs('./room-server.ts', mode === 'naive' ? ['naive'] : []);
  const port = await next<number>(server, 'port');
  return {
    port,
    snapshot: () => {
      server.send('stats');
      return next<ServerStats>(server, 'stats');
    },
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
  return fork(here(file), args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function next<T>(child: ChildProcess, key: string, timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${key} from child in ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: Record<string, unknown>) => {
      if (!(key in message)) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message[key] as T);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before ${key}`)));
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

export async function measureRoom(plan: RoomPlan, mode: 'batched' | 'naive'): Promise<RoomResult> {
  const server = await startServer(mode, plan.workers);
  const { port } = server;
  const viewers: ChildProcess[] = [];
  try {
    const perProcess = Math.ceil(plan.viewers / plan.viewerProcesses);
    for (let p = 0; p < plan.viewerProcesses; p++) {
      const viewerPlan: ViewerPlan = {
        port,
        count: Math.min(perProcess, plan.viewers - p * perProcess),
        sampled: plan.sampledPerProcess,
        roomId: 'live',
        tag: `${mode}-p${p}`,
        firstAddress: 2 + p * 50,
        spread: 50,
      };
      viewers.push(forkTs('./viewer-process.ts', [JSON.stringify(viewerPlan)]));
    }
    const ready = await Promise.all(viewers.map((v) => next<number>(v, 'ready')));
    const joined = ready.reduce((a, b) => a + b, 0);
    progress(mode, `${joined} viewers joined`);
    const senders = await openSenders(port, plan.senders, `${mode}-s`, 'live');
    await sleep(500);
    for (const v of viewers) v.send('reset');
    const before = await server.snapshot();
    const started = performance.now();
    const sent = await senders.run(plan.messagesPerSecond, plan.seconds);
    progress(mode, `${sent} sent`);
    // What was published in the window is written within a batch delay; a lagging server is not waited for.
    await sleep(200);
    const after = await server.snapshot();
    const seconds = (performance.now() - started) / 1000;
    const reports = await Promise.all(
      viewers.map((v) => {
        v.send('report');
        return next<ViewerReport>(v, 'report');
      }),
    );
    senders.close();
    const sampledViewers = plan.sampledPerProcess * plan.viewerProcesses;
    const sampledMessages = reports.reduce((n, r) => n + r.sampledMessages, 0);
    const viewerBytes = reports.reduce((n, r) => n + r.bytes, 0);
    const viewerFrames = reports.reduce((n, r) => n + r.frames, 0);
    const counted = diff(after, before);
    // With workers the counters are in the worker processes: every viewer gets the same batches
    // (no header reported a drop), so deliveries are the sampled viewers' mean times the viewers.
    const fromViewers = plan.workers > 1;
    const droppedSeen = reports.reduce((n, r) => n + r.droppedSeen, 0);
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
      sampledDropped: reports.reduce((n, r) => n + r.sampledDropped, 0),
      latenciesMs: reports.flatMap((r) => r.latenciesMs),
      sendErrors: senders.errors(),
    };
  } finally {
    for (const v of viewers) v.kill('SIGKILL');
    await server.stop();
  }
}
