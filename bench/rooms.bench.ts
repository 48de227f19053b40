/**
 * Live rooms: one room, many viewers, senders at a fixed rate. The batched fan-out (one encoded
 * batch per room per gateway, the same bytes to every viewer) beside the naive one (one frame per
 * message per viewer, encoded per viewer), in the same run. Sizes from the environment:
 * ROOM_VIEWERS (10,000), ROOM_RATE (1,000 msg/s), ROOM_SECONDS (5); ROOM_BATCH_N and ROOM_BATCH_MS
 * override the server's batch size and delay, ROOM_BATCHED_ONLY=1 skips the baseline and the slow-viewer
 * run (for such scans), and ROOM_WORKERS=N adds a run of the batched fan-out with N gateway worker
 * processes. The batched fan-out is measured twice: with the sampled viewers inside the two viewer
 * processes that read the 10,000 sockets (they share the machine's two cores with the server, so
 * their latency includes those processes' queueing), and with the sampled viewers in a small
 * process of their own, joined spread over the server's write order (the server still writes to
 * every viewer). A third batched run makes ROOM_SLOW_SHARE (10 %) of the viewers stop reading for
 * ROOM_STALL_MS, under tighter viewer bounds so that drops and removals happen within the run; it
 * counts the reliable messages every slow viewer holds at the end (after rejoining and pulling).
 */
import { availableParallelism } from 'node:os';
import type { BenchContext } from './support/context.ts';
import { measureRoom, type RoomPlan, type RoomResult, type SlowResult } from './rooms/measure.ts';

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const count = (n: number) => Math.round(n).toLocaleString('en');
const ms = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '–' : n.toFixed(1));

function runName(r: RoomResult): string {
  if (r.mode === 'naive') return 'naive (baseline)';
  if (r.workers > 1) return `batched, --workers ${r.workers}${r.samplerProcess ? ', sampler process' : ''}`;
  if (r.slow) return 'batched, 10 % slow viewers';
  return r.samplerProcess ? 'batched, sampler process' : 'batched, encoded once';
}

/** Where a sampled message's time goes: server-side figures beside the viewers' split. */
function timeRow(r: RoomResult): string[] {
  const t = r.timings;
  return [
    runName(r),
    count(t?.batches ?? 0),
    `${ms(t?.waitP50)} / ${ms(t?.waitP99)}`,
    `${ms(t?.writeP50)} / ${ms(t?.writeP99)} / ${ms(t?.writeMax)}`,
    `${ms(t?.lagP50)} / ${ms(t?.lagP99)}`,
    r.viewerLagP99.map((v) => ms(v)).join(', '),
    `${ms(percentile(r.upstreamMs, 50))} / ${ms(percentile(r.upstreamMs, 99))}`,
    `${ms(percentile(r.downstreamMs, 50))} / ${ms(percentile(r.downstreamMs, 99))}`,
    `${ms(percentile(r.latenciesMs, 50))} / ${ms(percentile(r.latenciesMs, 99))}`,
    `${perFrame(r.server.userSeconds, r)} / ${perFrame(r.server.systemSeconds, r)}`,
    `${r.server.cpuSeconds.toFixed(2)} / ${r.viewerCpuSeconds.toFixed(2)} of ${(availableParallelism() * r.seconds).toFixed(1)}`,
  ];
}

/** Server CPU per roomPush frame written (one socket write per viewer per batch), µs. */
const perFrame = (seconds: number, r: RoomResult) => (r.countedBy === 'server' ? ((seconds / Math.max(r.server.frames, 1)) * 1e6).toFixed(1) : '–');

const TIME_HEADER = ['run', 'batches', 'oldest message age at flush start p50 / p99', 'flush start → last write p50 / p99 / max', 'server loop delay p50 / p99', 'viewer processes loop delay p99', 'sender → server time p50 / p99', 'server time → sampled read p50 / p99', 'send → receive p50 / p99', 'server CPU µs per frame written: user / system', 'CPU-s server / viewer processes, of cores × run'];

function slowRows(s: SlowResult): string[][] {
  const share = (held: number, viewers: number) => `${((held / Math.max(viewers * s.latestSeq, 1)) * 100).toFixed(2)} %`;
  return [
    ['slow viewers', count(s.viewers)],
    ['send errors (a refused send is not in the room)', count(s.sendErrors)],
    ['reliable messages in the room (latest seq)', count(s.latestSeq)],
    ['reliable delivered to the slow viewers (held / viewers × seq)', `${share(s.held, s.viewers)} (${count(s.held)} of ${count(s.viewers * s.latestSeq)}); ${count(s.complete)} viewers hold all`],
    ['reliable delivered to the sampled viewers', share(s.sampledHeld, s.sampledViewers)],
    ['duplicates the slow viewers received (dropped by seq)', count(s.duplicates)],
    ['ordinary messages dropped for the slow viewers (from the headers they read)', count(s.dropped)],
    ['slow viewers removed (roomLeft) / rejoins / range pulls', `${count(s.removed)} / ${count(s.rejoins)} / ${count(s.pulls)}`],
    ['from the last send until every slow viewer held every reliable message', `${count(s.catchUpMs)} ms`],
  ];
}

function row(r: RoomResult): string[] {
  const { server } = r;
  const name = runName(r);
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

const SLOW = {
  share: Number(process.env.ROOM_SLOW_SHARE ?? 0.1),
  stallMs: Number(process.env.ROOM_STALL_MS ?? 12_000),
  viewers: Number(process.env.ROOM_SLOW_VIEWERS ?? 1_000),
  words: Number(process.env.ROOM_SLOW_WORDS ?? 200),
  // On loopback the kernel takes up to tcp_wmem's maximum (4 MiB here) of a stalled socket's output
  // before the server holds any: at the main run's ~40 bytes per delivery a stall would need minutes
  // to reach the viewer bounds. This run sends longer messages (200 words, about 1 KB) to a smaller
  // room (1,000 viewers) for longer (a 12 s stall), and uses tighter bounds than the defaults (256 KiB, 1 MiB, 5 s), so that drops and removals happen within it.
  bounds: { queueBytes: 64 * 1024, maxBytes: 256 * 1024, slowViewerMs: 1_000 },
};

function measureSlow(plan: RoomPlan): Promise<RoomResult> {
  const seconds = Math.max(plan.seconds, Math.ceil(SLOW.stallMs / 1000) + 4);
  return measureRoom({ ...plan, viewers: SLOW.viewers, samplerProcess: true, slowShare: SLOW.share, stallMs: SLOW.stallMs, viewerBounds: SLOW.bounds, words: SLOW.words, seconds }, 'batched');
}

function slowTitle(r: RoomResult): string {
  const b = SLOW.bounds;
  return `${count(SLOW.viewers)} viewers, ${(SLOW.share * 100).toFixed(0)} % of them stop reading for ${SLOW.stallMs} ms at the start, ${SLOW.words}-word messages for ${r.seconds.toFixed(0)} s (viewer bounds ${b.queueBytes / 1024} KiB / ${b.maxBytes / 1024} KiB / ${b.slowViewerMs} ms), then read, rejoin when removed and pull the reliable gap`;
}

export async function run(context: BenchContext): Promise<void> {
  const plan: RoomPlan = {
    viewers: Number(process.env.ROOM_VIEWERS ?? 10_000),
    viewerProcesses: 2,
    sampledPerProcess: 10,
    senders: 50,
    messagesPerSecond: Number(process.env.ROOM_RATE ?? 1_000),
    seconds: Number(process.env.ROOM_SECONDS ?? 5),
    workers: 1,
    samplerProcess: false,
    slowShare: 0,
    stallMs: 0,
    words: 5,
  };
  if (process.env.ROOM_SLOW_ONLY) {
    const slow = await measureSlow(plan);
    context.facts({ title: 'where the time goes, ms', rows: [TIME_HEADER, timeRow(slow)] });
    if (slow.slow) context.facts({ title: 'reliable messages with slow viewers', rows: [['', ''], ...slowRows(slow.slow)] });
    return;
  }
  const batched = await measureRoom(plan, 'batched');
  const sampler = await measureRoom({ ...plan, samplerProcess: true }, 'batched');
  const timed = [batched, sampler];
  const workers = Number(process.env.ROOM_WORKERS ?? 0);
  if (workers > 1) {
    // The same room with gateway workers: more processes write to the viewers.
    const clustered = await measureRoom({ ...plan, workers, senders: 100 }, 'batched');
    const clusteredSampler = await measureRoom({ ...plan, workers, senders: 100, samplerProcess: true }, 'batched');
    timed.push(clustered, clusteredSampler);
    context.facts({
      title: `the same with --workers ${workers} (deliveries and bytes from the viewers: every viewer got the same batches, the sampled ones counted them; CPU of the whole process tree from /proc)`,
      rows: [HEADER, row(batched), row(sampler), row(clustered), row(clusteredSampler)],
    });
  }
  if (process.env.ROOM_BATCHED_ONLY) {
    context.facts({ title: `batched only: N ${process.env.ROOM_BATCH_N ?? 'default'}, T ${process.env.ROOM_BATCH_MS ?? 'default'} ms`, rows: [HEADER, row(batched), row(sampler)] });
    context.facts({ title: 'where the time goes, ms (server figures from the server process, the split from the sampled viewers)', rows: [TIME_HEADER, ...timed.map(timeRow)] });
    return;
  }
  // The naive path costs a frame encode per message per viewer: at the batched run's rate it
  // would fall minutes behind, so it runs at the rate it can sustain (≈100,000 deliveries/s);
  // its CPU per delivery does not depend on the rate.
  const naive = await measureRoom({ ...plan, messagesPerSecond: Math.max(1, Math.min(plan.messagesPerSecond, Math.round(100_000 / plan.viewers))) }, 'naive');
  context.facts({
    title: `one room, ${count(plan.viewers)} viewers in ${plan.viewerProcesses} processes (+${plan.senders} senders), ${count(plan.messagesPerSecond)} msg/s for ${plan.seconds} s, one server process (gateway + logic, embedded store); latency on ${plan.sampledPerProcess * plan.viewerProcesses} sampled viewers`,
    rows: [HEADER, row(batched), row(sampler), row(naive)],
  });
  const slow = await measureSlow(plan);
  timed.push(slow, naive);
  context.facts({ title: 'where the time goes, ms (server figures from the server process, the split from the sampled viewers)', rows: [TIME_HEADER, ...timed.map(timeRow)] });
  context.facts({ title: slowTitle(slow), rows: [[...HEADER], row(slow)] });
  if (slow.slow) context.facts({ title: 'reliable messages with slow viewers', rows: [['', ''], ...slowRows(slow.slow)] });
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
    { label: 'batched p99 send → receive, sampler process (ms)', actual: percentile(sampler.latenciesMs, 99), target: 100, direction: 'atMost' },
    { label: 'batched p99 send → receive, sampled inside the viewer processes (ms)', actual: percentile(batched.latenciesMs, 99), target: 100, direction: 'atMost' },
    ...(slow.slow ? [{ label: 'reliable delivered to slow viewers, %', actual: (slow.slow.held / Math.max(slow.slow.viewers * slow.slow.latestSeq, 1)) * 100, target: 100, direction: 'atLeast' as const }] : []),
  ]);
}
