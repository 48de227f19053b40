import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A free TCP port on loopback (the kernel picks it, we release it at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly output: () => string;
}

/**
 * Starts the server as a real process and resolves once it says it is listening: from source
 * through tsx, or the build in dist/ with TERN_TEST_BUILT=1 (`npm run test:built`).
 */
export function spawnServer(args: string[], port: number, timeoutMs = 20_000): Promise<ServerProcess> {
  if (process.env.TERN_TEST_BUILT === '1') return spawnBuiltServer(args, port, timeoutMs);
  return spawnListening('server/main.ts', ['--host', '127.0.0.1', '--port', String(port), '--quiet', '--admin-port', '0', ...args], port, timeoutMs);
}

/** Starts a TypeScript entry point and resolves once it prints "tern listening". */
export function spawnListening(script: string, args: string[], port: number, timeoutMs = 20_000): Promise<ServerProcess> {
  return spawnNode(['--import', 'tsx', script, ...args], port, timeoutMs);
}

/** Starts the built server (`npm run build` first) as a real process, with no TypeScript loader. */
export function spawnBuiltServer(args: string[], port: number, timeoutMs = 20_000): Promise<ServerProcess> {
  return spawnNode(['dist/server/main.js', '--host', '127.0.0.1', '--port', String(port), '--quiet', '--admin-port', '0', ...args], port, timeoutMs);
}

/** Runs node with `nodeArgs` and resolves once the process prints "tern listening". */
export function spawnNode(nodeArgs: string[], port: number, timeoutMs = 20_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in time:\n${output}`));
    }, timeoutMs);
    const check = () => {
      if (output.includes('tern listening')) {
        clearTimeout(timer);
        resolve({ child, port, output: () => output });
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
}

export function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
