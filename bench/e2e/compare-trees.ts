/**
 * 1:1 throughput and server CPU per 1,000 messages of the server in this tree beside the server
 * of another checkout of the project (e.g. the main branch), alternating, closed loop, one
 * process each: to show what a change costs on the message path. With `--built`, each tree's
 * `dist/` build runs (`npm run build` in both first), as `npm start` does.
 *   node --import tsx bench/e2e/compare-trees.ts OTHER_TREE [rounds=3] [--built]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, stopProcess } from '../../spec/support/process.ts';
import { closedLoop } from './load.ts';

const built = process.argv.includes('--built');
const [otherArg, roundsArg] = process.argv.slice(2).filter((arg) => arg !== '--built');

async function startIn(tree: string, port: number, dataDir: string) {
  const entry = built ? ['dist/server/main.js'] : ['--import', 'tsx', 'server/main.ts'];
  const child = spawn(process.execPath, [...entry, '--host', '127.0.0.1', '--port', String(port), '--quiet', '--admin-port', '0', '--workers', '1', '--data-dir', dataDir, '--scrypt-cost', '16', '--max-accept-rate', '100000'], { cwd: tree, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`no start in ${tree}`)), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('tern listening')) {
        clearTimeout(timer);
        done();
      }
    });
  });
  return child;
}

const other = resolve(otherArg ?? '');
const rounds = Number(roundsArg ?? '3');
const trees = { 'this tree': process.cwd(), [`other (${other})`]: other };
const results = new Map<string, Array<{ rate: number; cpuPer1000: number }>>();
for (let round = 0; round < rounds; round++) {
  for (const [name, tree] of Object.entries(trees)) {
    const dataDir = mkdtempSync(join(tmpdir(), 'tern-compare-'));
    const port = await freePort();
    const child = await startIn(tree, port, join(dataDir, 'data'));
    try {
      const result = await closedLoop({ port, serverPid: child.pid as number, tag: `r${round}` }, { pairs: 100, messagesPerSender: 200, inFlight: 32, payloadBytes: 100 });
      const list = results.get(name) ?? [];
      list.push({ rate: result.delivered / result.seconds, cpuPer1000: (result.serverCpuSeconds / result.delivered) * 1000 });
      results.set(name, list);
    } finally {
      await stopProcess(child, 'SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
}
console.log(`closed loop, 100 pairs × 200 messages, 32 in flight, one process${built ? ', built' : ''}; ${rounds} alternating rounds; median (min–max)`);
for (const [name, list] of results) {
  const rates = list.map((r) => r.rate).sort((a, b) => a - b);
  const cpu = list.map((r) => r.cpuPer1000).sort((a, b) => a - b);
  const mid = (xs: number[]) => xs[Math.floor(xs.length / 2)] as number;
  console.log(`${name.padEnd(40)} ${mid(rates).toFixed(0)} msg/s (${rates[0]!.toFixed(0)}–${rates.at(-1)!.toFixed(0)})  server CPU ${mid(cpu).toFixed(3)} s per 1,000 (${cpu[0]!.toFixed(3)}–${cpu.at(-1)!.toFixed(3)})`);
}
