/**
 * The server of the rooms bench, forked with an IPC channel: one node (gateway and logic in one
 * process, the embedded store) with the batched fan-out or the naive baseline (`naive` as the
 * first argument). It answers `stats` messages with its room delivery counters and CPU time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNode } from '../../server/node.ts';
import { batchedFanout } from '../../server/gateway/rooms/fanout.ts';
import { FlushTimer, type FlushTimings } from './flush-timing.ts';
import { naiveFanout } from './naive-fanout.ts';

export interface ServerStats {
  readonly deliveries: number;
  readonly frames: number;
  readonly bytes: number;
  readonly dropped: number;
  readonly removed: number;
  readonly encodes: number;
  readonly cpuSeconds: number;
  /** The same split: user (JS and the runtime) and system (the kernel: on loopback that includes the receiving side's TCP work). */
  readonly userSeconds: number;
  readonly systemSeconds: number;
}

export interface ServerSnapshot {
  readonly stats: ServerStats;
  /** Since the last `reset`. */
  readonly timings: FlushTimings;
}

const naive = process.argv[2] === 'naive';
/** Viewer output bounds (SPEC §19.5) when the bench sets them: `{ queueBytes, maxBytes, slowViewerMs }`. */
const bounds = process.argv[3] ? (JSON.parse(process.argv[3]) as { queueBytes: number; maxBytes: number; slowViewerMs: number }) : undefined;
const viewerBounds = bounds ? { roomViewerQueueBytes: bounds.queueBytes, roomViewerMaxBytes: bounds.maxBytes, roomSlowViewerMs: bounds.slowViewerMs } : {};
// Batch size and delay to try other defaults: ROOM_BATCH_N, ROOM_BATCH_MS.
const batching = {
  ...(process.env.ROOM_BATCH_N ? { roomBatchMessages: Number(process.env.ROOM_BATCH_N) } : {}),
  ...(process.env.ROOM_BATCH_MS ? { roomBatchMs: Number(process.env.ROOM_BATCH_MS) } : {}),
};
const timer = new FlushTimer();
const dataDir = mkdtempSync(join(tmpdir(), 'tern-rooms-bench-'));
const node = await startNode({
  dataDir,
  host: '0.0.0.0',
  port: 0,
  scryptCost: 16,
  // Thousands of viewers register at once: the bound on waiting password checks is not measured here.
  scryptQueue: { queueLimit: 1_000_000 },
  rooms: { sendsPerSecond: 1_000 },
  gateway: { maxConnections: 20_000, maxAcceptsPerSecond: 100_000, ...(naive ? { roomBatchMessages: 1 } : batching), ...viewerBounds },
  gatewayRooms: { fanout: timer.wrap(naive ? naiveFanout : batchedFanout) },
});

process.on('message', (message: string) => {
  if (message === 'stats') {
    const cpu = process.cpuUsage();
    const stats: ServerStats = { ...node.gateway.stats.rooms, cpuSeconds: (cpu.user + cpu.system) / 1e6, userSeconds: cpu.user / 1e6, systemSeconds: cpu.system / 1e6 };
    process.send?.({ snapshot: { stats, timings: timer.timings() } satisfies ServerSnapshot });
  } else if (message === 'reset') {
    timer.reset();
  } else if (message === 'stop') {
    void node.close().finally(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  }
});
process.send?.({ port: node.port });
