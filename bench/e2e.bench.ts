/**
 * End to end over loopback: 1:1 throughput and latency of the real server (durable store, dedup,
 * push window) beside a bare relay on the same framing, and the server's memory per idle
 * authenticated connection.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { freePort, spawnListening, spawnServer, stopProcess } from '../spec/support/process.ts';
import { throwawayCertificate } from '../spec/support/tls.ts';
import type { BenchContext } from './support/context.ts';
import { justConnect, openMany, registerUsers, rssBytes, tokenLogin, type Opener } from './e2e/idle.ts';
import { DEFAULT_PLAN, measureThroughput, THROUGHPUT_HEADER, throughputRow, type Measured } from './e2e/throughput.ts';

const IDLE_CONNECTIONS = 10_000;

async function throughput(context: BenchContext): Promise<void> {
  const plan = DEFAULT_PLAN;
  const measured = await measureThroughput(plan);
  context.facts({
    title: `1:1 over loopback, ${plan.payloadBytes}-byte messages, raw-frame devices: closed loop ${plan.closed.pairs} pairs × ${plan.closed.inFlight} in flight; open loop ${plan.open.users} users at ${plan.open.messagesPerSecond} msg/s for ${plan.open.seconds} s (ms; CPU-s/1k = server CPU seconds per 1,000 delivered messages, every server process)`,
    rows: [THROUGHPUT_HEADER, ...measured.map(throughputRow)],
  });
  const cpuPerThousand = (m: Measured) => (m.result.serverCpuSeconds / Math.max(1, m.result.delivered)) * 1000;
  const closed = measured.filter((m) => m.loop === 'closed');
  const base = closed[0];
  if (base) {
    context.facts({
      title: 'closed loop against the bare relay',
      rows: [['server', 'share of baseline msg/s', 'CPU per message vs baseline'], ...closed.slice(1).map((m) => [m.server, `${((m.result.delivered / m.result.seconds / (base.result.delivered / base.result.seconds)) * 100).toFixed(0)} %`, `${(cpuPerThousand(m) / cpuPerThousand(base)).toFixed(1)}×`])],
    });
  }
}

/** RSS growth of a server process while `count` connections are opened by `opener`. */
async function rssPerConnection(pid: number, port: number, opener: Opener, tls?: ConnectionOptions): Promise<{ before: number; after: number; rate: number }> {
  await new Promise((r) => setTimeout(r, 1_000));
  const before = rssBytes(pid);
  const started = performance.now();
  const open = await openMany(port, IDLE_CONNECTIONS, opener, tls);
  const rate = IDLE_CONNECTIONS / ((performance.now() - started) / 1000);
  await new Promise((r) => setTimeout(r, 3_000));
  const after = rssBytes(pid);
  for (const t of open) t.destroy(undefined);
  return { before, after, rate };
}

async function idleMemory(context: BenchContext): Promise<void> {
  const barePort = await freePort();
  const bare = await spawnListening('bench/e2e/bare-server.ts', [String(barePort)], barePort);
  // Both servers are measured warm: as many connections as measured have come and gone before.
  for (const t of await openMany(barePort, IDLE_CONNECTIONS, justConnect)) t.destroy(undefined);
  const floor = await rssPerConnection(bare.child.pid as number, barePort, justConnect);
  await stopProcess(bare.child);

  const dataDir = mkdtempSync(join(tmpdir(), 'tern-bench-'));
  const { cert, key } = throwawayCertificate();
  writeFileSync(join(dataDir, 'cert.pem'), cert);
  writeFileSync(join(dataDir, 'key.pem'), key);
  const [port, tlsPort] = [await freePort(), await freePort()];
  const server = await spawnServer(
    ['--workers', '1', '--data-dir', join(dataDir, 'data'), '--scrypt-cost', '1024', '--scrypt-queue', '100000', '--max-connections', '19000', '--max-accept-rate', '100000',
      '--tls-port', String(tlsPort), '--tls-cert', join(dataDir, 'cert.pem'), '--tls-key', join(dataDir, 'key.pem')],
    port,
  );
  // Accounts are created first over as many connections, which also warms the process (and keeps
  // scrypt's transient memory out of the figure); the measured connections log in with tokens,
  // first over TCP, then (after those closed) over TLS.
  const pid = server.child.pid as number;
  const tokens = await registerUsers(port, IDLE_CONNECTIONS, 'idle');
  const tern = await rssPerConnection(pid, port, tokenLogin('idle', tokens));
  const ternTls = await rssPerConnection(pid, tlsPort, tokenLogin('idle', tokens), { ca: cert, servername: 'localhost' });
  await stopProcess(server.child);
  rmSync(dataDir, { recursive: true, force: true });

  const kib = (r: { before: number; after: number }) => (r.after - r.before) / IDLE_CONNECTIONS / 1024;
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  context.facts({
    title: `server memory for ${IDLE_CONNECTIONS.toLocaleString('en')} idle connections (one process)`,
    rows: [
      ['server', 'RSS before', 'RSS after', 'per connection', 'open rate'],
      ['bare node:net sockets (baseline)', mib(floor.before), mib(floor.after), `${kib(floor).toFixed(2)} KiB`, `${floor.rate.toFixed(0)} /s`],
      ['tern, hello + token login', mib(tern.before), mib(tern.after), `${kib(tern).toFixed(2)} KiB`, `${tern.rate.toFixed(0)} /s`],
      ['tern over TLS 1.3, the same', mib(ternTls.before), mib(ternTls.after), `${kib(ternTls).toFixed(2)} KiB`, `${ternTls.rate.toFixed(0)} /s`],
    ],
  });
  context.goals('memory per idle authenticated connection (KiB; the bare socket is the floor)', [
    { label: 'tern', actual: kib(tern), target: 4, direction: 'atMost' },
    { label: 'tern beyond the bare socket', actual: kib(tern) - kib(floor), target: 1, direction: 'atMost' },
  ]);
}

export async function run(context: BenchContext): Promise<void> {
  await throughput(context);
  await idleMemory(context);
}
