/**
 * Agent mode, for runs across hosts: listens on a port; for each coordinator connection it forks
 * a local worker, hands it the assignment it receives and relays the worker's reports back.
 */
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import type { CoordinatorMessage } from './messages.ts';
import { forkWorker } from './workers.ts';

export function runAgent(host: string, port: number): void {
  const server = createServer((socket) => {
    const worker = forkWorker(`agent:${port}`);
    worker.on(
      (message) => socket.write(`${JSON.stringify(message)}\n`),
      () => socket.end(),
    );
    createInterface({ input: socket }).on('line', (line) => {
      const message = JSON.parse(line) as CoordinatorMessage;
      if (message.kind === 'go') worker.go();
      else worker.start(message);
    });
    socket.on('close', () => worker.stop());
    socket.on('error', () => worker.stop());
  });
  server.listen(port, host, () => console.log(`tern-loadgen agent listening on ${host}:${port}`));
}
