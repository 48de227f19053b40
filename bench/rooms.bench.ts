/**
 * Live rooms: one room, many viewers, senders at a fixed rate. The batched fan-out (one encoded
 * batch per room per gateway, the same bytes to every viewer) beside the naive one (one frame per
 * message per viewer, encoded per viewer), in the same run. Sizes from the environment:
 * ROOM_VIEWERS (10,000), ROOM_RATE (1,000 msg/s), ROOM_SECONDS (5); ROOM_BATCH_N and ROOM_BATCH_MS
 * override the server's batch size and delay, ROOM_BATCHED_ONLY=1 skips the baseline (for such scans),
 * and ROOM_WORKERS=N adds a run of the batched fan-out with N gateway worker processes.
 */
import type { BenchContext } from './support/context.ts';
import { measureRoom, type RoomPlan, type RoomResult } from './rooms/measure.ts';

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const count = (n: number) => Math.round(n).toLocaleString('en');

function row(r: RoomResult): string[] {
  const { server } = r;
  const name = r.mode === 'batched' ? (r.workers > 1 ? `batched, --workers ${r.workers}` : 'batched, encoded once') : 'naive (baseline)';
  const deliveriesPerSecond = server.deliveries / r.seconds;
  const perCpuSecond = server.deliveries / Math.max(server.cpuSeconds, 1e-9);
  const expectedSampled = r.sent * r.sampledViewers;
  return [
    name,
    count(r.viewers),
    count(r.sent),
    count(deliveriesPerSecond),
    server.cpuSeconds.toFixed(2),
    ((server.cpuSeconds / Math.max(server.deliveries, 1)) * 1e6).toFixed(3),
    count(perCpuSecond),
    (server.bytes / Math.max(server.deliveries, 1)).toFixed(1),
    count(server.frames),
    count(server.dropped),
    `${((r.sampledMessages / Math.max(expectedSampled, 1)) * 100).toFixed(1)} %`,
    percentile(r.latenciesMs, 50).toFixed(1),
    percentile(r.latenciesMs, 99).toFixed(1),
  ];
}

const perCpu = (r: RoomResult) => r.server.deliveries / Math.max(r.server.cpuSeconds, 1e-9);
const bytesPer = (r: RoomResult) => r.server.bytes / Math.max(r.server.deliveries, 1);

const HEADER = ['fan-out', 'viewers', 'sent', 'deliveries/s', 'server CPU-s', 'CPU-s per 1M deliveries', 'deliveries per CPU-s', 'bytes/delivery', 'frames', 'dropped', 'sampled got', 'p50 ms', 'p99 ms'];

export async function run(context: BenchContext): Promise<void> {
  const plan: RoomPlan = {
    viewers: Number(process.env.ROOM_VIEWERS ?? 10_000),
    viewerProcesses: 2,
    sampledPerProcess: 10,
    senders: 50,
    messagesPerSecond: Number(process.env.ROOM_RATE ?? 1_000),
    seconds: Number(process.env.ROOM_SECONDS ?? 5),
    workers: 1,
  };
  const batched = await measureRoom(plan, 'batched');
  const workers = Number(process.env.ROOM_WORKERS ?? 0);
  if (workers > 1) {
    // The same room with gateway workers: more processes write to the viewers.
    const clustered = await measureRoom({ ...plan, workers, senders: 100 }, 'batched');
    context.facts({
      title: `the same with --workers ${workers} (deliveries and bytes from the viewers: every viewer got the same batches, the sampled ones counted them; CPU of the whole process tree from /proc)`,
      rows: [HEADER, row(batched), row(clustered)],
    });
  }
  if (process.env.ROOM_BATCHED_ONLY) {
    context.facts({ title: `batched only: N ${process.env.ROOM_BATCH_N ?? 'default'}, T ${process.env.ROOM_BATCH_MS ?? 'default'} ms`, rows: [HEADER, row(batched)] });
    return;
  }
  // The naive path costs a frame encode per message per viewer: at the batched run's rate it
  // would fall minutes behind, so it runs at the rate it can sustain (≈100,000 deliveries/s);
  // its CPU per delivery does not depend on the rate.
  const naive = await measureRoom({ ...plan, messagesPerSecond: Math.max(1, Math.min(plan.messagesPerSecond, Math.round(100_000 / plan.viewers))) }, 'naive');
  context.facts({
    title: `one room, ${count(plan.viewers)} viewers in ${plan.viewerProcesses} processes (+${plan.senders} senders), ${count(plan.messagesPerSecond)} msg/s for ${plan.seconds} s, one server process (gateway + logic, embedded store); latency on ${plan.sampledPerProcess * plan.viewerProcesses} sampled viewers`,
    rows: [HEADER, row(batched), row(naive)],
  });
  context.facts({
    title: 'each figure against the naive fan-out of the same run',
    rows: [
      ['', 'batched', 'naive', 'ratio'],
      ['deliveries per server CPU-second', count(perCpu(batched)), count(perCpu(naive)), `${(perCpu(batched) / perCpu(naive)).toFixed(1)}×`],
      ['bytes written per delivery', bytesPer(batched).toFixed(1), bytesPer(naive).toFixed(1), `${(bytesPer(naive) / bytesPer(batched)).toFixed(1)}× fewer`],
    ],
  });
  context.goals('live rooms (deliveries per server CPU-second; p99 in ms)', [
    { label: 'batched deliveries per CPU-second, millions', actual: perCpu(batched) / 1e6, target: 2, direction: 'atLeast' },
    { label: 'batched vs naive, per CPU-second', actual: perCpu(batched) / perCpu(naive), target: 10, direction: 'atLeast' },
    { label: 'batched p99 send → receive (ms)', actual: percentile(batched.latenciesMs, 99), target: 100, direction: 'atMost' },
  ]);
}
