/**
 * 1:1 throughput of the real server (`--workers 1` and `2`) beside the bare relay on the same
 * framing, closed loop and open loop, with the server's CPU per 1,000 delivered messages.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnListening, spawnServer, stopProcess, type ServerProcess } from '../../spec/support/process.ts';
import { closedLoop, openLoop, percentile, type LoadResult } from './load.ts';

export interface ThroughputPlan {
  readonly closed: { readonly pairs: number; readonly messagesPerSender: number; readonly inFlight: number };
  readonly open: { readonly users: number; readonly messagesPerSecond: number; readonly seconds: number };
  readonly payloadBytes: number;
  readonly workers: readonly number[];
}

export const DEFAULT_PLAN: ThroughputPlan = {
  closed: { pairs: 100, messagesPerSender: 300, inFlight: 32 },
  open: { users: 2000, messagesPerSecond: 4000, seconds: 10 },
  payloadBytes: 100,
  workers: [1, 2],
};

export interface Measured {
  readonly server: string;
  readonly loop: 'closed' | 'open';
  readonly result: LoadResult;
}

async function withServer<T>(start: (port: number) => Promise<ServerProcess>, run: (port: number, pid: number) => Promise<T>): Promise<T> {
  const port = await freePort();
  const server = await start(port);
  try {
    return await run(port, server.child.pid as number);
  } finally {
    await stopProcess(server.child);
  }
}

export async function measureThroughput(plan: ThroughputPlan, onResult: (m: Measured) => void = () => undefined): Promise<Measured[]> {
  const out: Measured[] = [];
  const record = (m: Measured) => {
    out.push(m);
    onResult(m);
  };
  const servers: { name: string; start: (port: number) => Promise<ServerProcess>; cleanup?: () => void }[] = [
    { name: 'bare relay (baseline)', start: (port) => spawnListening('bench/e2e/relay-server.ts', [String(port)], port) },
  ];
  for (const workers of plan.workers) {
    const dataDir = mkdtempSync(join(tmpdir(), 'tern-bench-'));
    servers.push({
      name: `tern --workers ${workers}`,
      start: (port) => spawnServer(['--workers', String(workers), '--data-dir', join(dataDir, 'data'), '--scrypt-cost', '16', '--scrypt-queue', '100000', '--max-accept-rate', '100000'], port),
      cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
    });
  }
  let tag = 0;
  for (const server of servers) {
    const closed = await withServer(server.start, (port, serverPid) => closedLoop({ port, serverPid, tag: `c${tag++}` }, { ...plan.closed, payloadBytes: plan.payloadBytes }));
    record({ server: server.name, loop: 'closed', result: closed });
    const open = await withServer(server.start, (port, serverPid) => openLoop({ port, serverPid, tag: `o${tag++}` }, { ...plan.open, payloadBytes: plan.payloadBytes }));
    record({ server: server.name, loop: 'open', result: open });
    server.cleanup?.();
  }
  return out;
}

export const THROUGHPUT_HEADER = ['server', 'loop', 'delivered', 'msg/s', 'CPU-s/1k', 'ack p50', 'ack p99', 'deliver p50', 'deliver p99', 'ping p99', 'errors'];

export function throughputRow(m: Measured): string[] {
  const r = m.result;
  const f = (n: number) => n.toFixed(1);
  return [
    m.server,
    m.loop,
    `${r.delivered}/${r.expected}`,
    (r.delivered / r.seconds).toFixed(0),
    r.delivered > 0 ? ((r.serverCpuSeconds / r.delivered) * 1000).toFixed(3) : '-',
    f(percentile(r.ackMs, 50)),
    f(percentile(r.ackMs, 99)),
    f(percentile(r.deliverMs, 50)),
    f(percentile(r.deliverMs, 99)),
    f(percentile(r.pingMs, 99)),
    String(r.errors),
  ];
}

/** `node --import tsx bench/e2e/throughput.ts [workers…]`: the same measurement without the bench runner. */
if (import.meta.url === `file://${process.argv[1]}`) {
  const workers = process.argv.slice(2).map(Number).filter((n) => n > 0);
  const plan = workers.length > 0 ? { ...DEFAULT_PLAN, workers } : DEFAULT_PLAN;
  console.log(THROUGHPUT_HEADER.join('\t'));
  await measureThroughput(plan, (m) => console.log(throughputRow(m).join('\t')));
}
