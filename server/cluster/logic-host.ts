/**
 * In the logic process: serves the calls of gateway workers and routes the logic's pushes and
 * kicks back to the worker that holds the connection.
 */
import type { Worker } from 'node:cluster';
import type { BodyOf } from '../../protocol/bodies.ts';
import { ErrorCode, ProtocolError } from '../../protocol/errors.ts';
import type { ConnectionId, GatewayApi, LogicApi } from '../seam.ts';
import { workerOf, type LogicCall, type LogicToWorker, type WorkerToLogic } from './messages.ts';

export class LogicHost implements GatewayApi {
  private readonly workers = new Map<string, Worker>();

  constructor(
    private readonly logic: LogicApi,
    private readonly onError: (error: unknown) => void,
  ) {}

  attach(worker: Worker): void {
    this.workers.set(String(worker.id), worker);
    worker.on('message', (message: WorkerToLogic) => this.onMessage(worker, message));
    worker.on('exit', () => this.workers.delete(String(worker.id)));
  }

  push(connectionId: ConnectionId, entry: BodyOf<'push'>): void {
    this.send(workerOf(connectionId), { kind: 'push', connectionId, entry });
  }

  kick(connectionId: ConnectionId, body: BodyOf<'kick'>): void {
    this.send(workerOf(connectionId), { kind: 'kick', connectionId, body });
  }

  private onMessage(worker: Worker, message: WorkerToLogic): void {
    if (message.kind === 'disconnected') return this.logic.disconnected(message.session);
    if (message.kind !== 'call') return;
    this.run(message.call).then(
      (value) => this.reply(worker, { kind: 'result', id: message.id, value }),
      (error: unknown) => {
        if (!(error instanceof ProtocolError)) this.onError(error);
        const code = error instanceof ProtocolError ? error.code : ErrorCode.internal;
        this.reply(worker, { kind: 'failure', id: message.id, code, message: error instanceof ProtocolError ? error.message : 'internal error' });
      },
    );
  }

  private run(call: LogicCall): Promise<unknown> {
    switch (call.method) {
      case 'register':
        return this.logic.register(call.client, call.body);
      case 'login':
        return this.logic.login(call.client, call.body);
      case 'request':
        return this.logic.request(call.session, call.name, call.body as never);
    }
  }

  private send(workerId: string, message: LogicToWorker): void {
    const worker = this.workers.get(workerId);
    if (worker?.isConnected()) worker.send(message);
  }

  private reply(worker: Worker, message: LogicToWorker): void {
    if (worker.isConnected()) worker.send(message);
  }
}
