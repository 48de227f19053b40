/**
 * In the logic process: serves the calls of gateway workers and routes the logic's pushes and
 * kicks back to the worker that holds the connection.
 */
import type { Worker } from 'node:cluster';
import type { BodyOf } from '../../protocol/bodies.ts';
import { ErrorCode, ProtocolError } from '../../protocol/errors.ts';
import type { PushPayload } from '../push-payload.ts';
import type { ConnectionId, GatewayApi, LogicApi, RoomBroadcastBatch } from '../seam.ts';
import { workerOf, type LogicCall, type LogicToWorker, type WorkerToLogic } from './messages.ts';
import { TurnBatch } from './turn-batch.ts';

interface WorkerLink {
  readonly worker: Worker;
  readonly outbox: TurnBatch<LogicToWorker>;
}

export class LogicHost implements GatewayApi {
  private readonly workers = new Map<string, WorkerLink>();

  constructor(
    private readonly logic: LogicApi,
    private readonly onError: (error: unknown) => void,
  ) {}

  attach(worker: Worker): void {
    const outbox = new TurnBatch<LogicToWorker>((messages) => {
      if (worker.isConnected()) worker.send({ kind: 'batch', messages });
    });
    this.workers.set(String(worker.id), { worker, outbox });
    worker.on('message', (message: WorkerToLogic) => this.onMessage(worker.id, message));
    worker.on('exit', () => this.workers.delete(String(worker.id)));
  }

  /** Encodes the entry once, and sends each worker its bytes with the list of its connections. */
  push(connectionIds: readonly ConnectionId[], payload: PushPayload): void {
    const byWorker = new Map<string, ConnectionId[]>();
    for (const connectionId of connectionIds) {
      const workerId = workerOf(connectionId);
      const list = byWorker.get(workerId);
      if (list) list.push(connectionId);
      else byWorker.set(workerId, [connectionId]);
    }
    const body = payload.prepared();
    for (const [workerId, ids] of byWorker) this.send(workerId, { kind: 'push', connectionIds: ids, body });
  }

  kick(connectionId: ConnectionId, body: BodyOf<'kick'>): void {
    this.send(workerOf(connectionId), { kind: 'kick', connectionId, body });
  }

  /**
   * Every worker gets the room's batch once (in its turn's IPC message), whatever the number of
   * its viewers: each worker keeps its own room → connections map.
   */
  roomPublish(batch: RoomBroadcastBatch): void {
    for (const link of this.workers.values()) link.outbox.add({ kind: 'room', batch });
  }

  private onMessage(workerId: number, message: WorkerToLogic): void {
    if (message.kind === 'batch') {
      for (const one of message.messages) this.onMessage(workerId, one);
      return;
    }
    if (message.kind === 'disconnected') return this.logic.disconnected(message.session);
    if (message.kind === 'roomLeft') return this.logic.roomLeft(message.session, message.roomId);
    if (message.kind !== 'call') return;
    const reply = String(workerId);
    this.run(message.call).then(
      (value) => this.send(reply, { kind: 'result', id: message.id, value }),
      (error: unknown) => {
        if (!(error instanceof ProtocolError)) this.onError(error);
        const code = error instanceof ProtocolError ? error.code : ErrorCode.internal;
        this.send(reply, { kind: 'failure', id: message.id, code, message: error instanceof ProtocolError ? error.message : 'internal error' });
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
    this.workers.get(workerId)?.outbox.add(message);
  }
}
