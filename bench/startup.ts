/**
 * Start time and resident memory of the server run from source through tsx beside the built
 * JavaScript in dist/ run by plain node, alternating the two in one run. Each start is timed from
 * spawn to the "tern listening" line; RSS is read from /proc once the server has listened and
 * settled for 500 ms. Run `npm run build` first.
 *   node --import tsx bench/startup.ts [runs=5]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

interface Sample {
  readonly startMs: number;
  readonly rssMiB: number;
}

function rssMiB(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

async function once(nodeArgs: string[], port: number): Promise<Sample> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tern-startup-'));
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, '--host', '127.0.0.1', '--port', String(port), '--workers', '1', '--quiet', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const startMs = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no "tern listening" within 20 s')), 20_000);
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('tern listening')) {
          clearTimeout(timer);
          resolve(performance.now() - started);
        }
      });
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    await sleep(500);
    return { startMs, rssMiB: rssMiB(child.pid ?? 0) };
  } finally {
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? '5');
  const variants = { 'tsx (server/main.ts)': ['--import', 'tsx', 'server/main.ts'], 'built (dist/server/main.js)': ['dist/server/main.js'] };
  const samples = new Map<string, Sample[]>(Object.keys(variants).map((name) => [name, []]));
  for (let i = 0; i < runs; i++) {
    for (const [name, args] of Object.entries(variants)) samples.get(name)?.push(await once(args, 17_400 + i));
  }
  console.log(`${runs} starts each, alternating; median (min–max)`);
  for (const [name, list] of samples) {
    const start = list.map((s) => s.startMs);
    const rss = list.map((s) => s.rssMiB);
    console.log(`${name.padEnd(30)} start ${median(start).toFixed(0)} ms (${Math.min(...start).toFixed(0)}–${Math.max(...start).toFixed(0)})  RSS ${median(rss).toFixed(1)} MiB (${Math.min(...rss).toFixed(1)}–${Math.max(...rss).toFixed(1)})`);
  }
}

await main();
