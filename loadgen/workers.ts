/**
 * Where workers run: a forked process on this host, or a process on another host that an agent
 * (`tern-loadgen agent`) forks for us and relays over TCP as newline-delimited JSON.
 */
import { fork } from 'node:child_process';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import type { WorkerAssignment, WorkerMessage } from './messages.ts';

export interface WorkerHandle {
  readonly label: string;
  start(assignment: WorkerAssignment): void;
  /** Every worker has ramped: begin the messaging phase. */
  go(): void;
  /** Calls back for every message; `exit` once when the worker is gone. */
  on(message: (message: WorkerMessage) => void, exit: (code: number | null) => void): void;
  stop(): void;
}

// Run from source (through tsx) or from the build in dist/ (plain node): the worker is a sibling either way.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_SCRIPT = new URL(FROM_SOURCE ? './worker.ts' : './worker.js', import.meta.url).pathname;

export function forkWorker(label: string): WorkerHandle {
  const child = fork(WORKER_SCRIPT, ['--loadgen-worker'], { execArgv: FROM_SOURCE ? ['--import', 'tsx'] : [], serialization: 'advanced' });
  return {
    label,
    start: (assignment) => child.send(assignment),
    go: () => child.send({ kind: 'go' }),
    on(message, exit) {
      child.on('message', (m: WorkerMessage) => message(m));
      child.once('exit', (code) => exit(code));
    },
    stop: () => child.kill(),
  };
}

/** A worker run by an agent at host:port. */
export function remoteWorker(address: string): WorkerHandle {
  const [host, port] = address.split(':') as [string, string];
  const socket = connect({ host, port: Number(port) });
  socket.on('error', () => socket.destroy());
  return {
    label: address,
    start: (assignment) => socket.write(`${JSON.stringify(assignment)}\n`),
    go: () => socket.write(`${JSON.stringify({ kind: 'go' })}\n`),
    on(message, exit) {
      createInterface({ input: socket }).on('line', (line) => message(JSON.parse(line) as WorkerMessage));
      socket.once('close', () => exit(0));
    },
    stop: () => socket.destroy(),
  };
}
