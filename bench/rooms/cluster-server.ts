/**
 * The rooms bench's server with gateway workers: `server/main.ts --workers N` as a real process
 * tree. Its room counters live in the workers, so this side reports CPU (from /proc, the whole
 * tree) and leaves deliveries to the viewers (measure.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnServer, stopProcess } from '../../spec/support/process.ts';
import { treeCpuSeconds } from '../e2e/server-cpu.ts';

export interface ClusterServer {
  readonly port: number;
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export async function startClusterServer(workers: number): Promise<ClusterServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tern-rooms-cluster-'));
  const port = await freePort();
  const server = await spawnServer(
    ['--workers', String(workers), '--data-dir', join(dataDir, 'data'), '--scrypt-cost', '16', '--scrypt-queue', '100000', '--max-accept-rate', '100000', '--max-connections', '20000'],
    port,
    60_000,
  );
  const pid = server.child.pid as number;
  return {
    port,
    cpuSeconds: () => treeCpuSeconds(pid),
    async stop() {
      await stopProcess(server.child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
