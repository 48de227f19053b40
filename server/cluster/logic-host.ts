/**
 * In the logic process: serves the calls of gateway workers and routes the logic's pushes and
 * kicks back to the worker that holds the connection.
 */
import type { Worker } from 'node:cluster';
import type { BodyOf } from '../../protocol/bodies.ts';
import { ErrorCode, ProtocolError } from '../../protocol/errors.ts';
import type { WorkerMetrics } from '../ops/metrics.ts';
import type { PushPayload } from '../push-payload.ts';
import type { AuthResult, ConnectionId, GatewayApi, LogicApi, RoomBroadcastBatch, SessionInfo } from '../seam.ts';
import { workerOf, type LogicCall, type LogicToWorker, type WorkerToLogic } from './messages.ts';
import { TurnBatch } from './turn-batch.ts';

interface WorkerLink {
  readonly worker: Worker;
  readonly outbox: TurnBatch<LogicToWorker>;
  /** The worker's authenticated sessions, so that they leave presence if the worker dies. */
  readonly sessions: Map<ConnectionId, SessionInfo>;
}

export class LogicHost implements GatewayApi {
  private readonly workers = new Map<string, WorkerLink>();
  private readonly snapshotWaiting = new Map<number, (value: Omit<WorkerMetrics, 'worker'>) => void>();
  private nextSnapshot = 1;

  constructor(
    private readonly logic: LogicApi,
    private readonly onError: (error: unknown) => void,
  ) {}

  attach(worker: Worker): void {
    const outbox = new TurnBatch<LogicToWorker>((messages) => {
      if (worker.isConnected()) worker.send({ kind: 'batch', messages });
    });
    const link: WorkerLink = { worker, outbox, sessions: new Map() };
    this.workers.set(String(worker.id), link);
    worker.on('message', (message: WorkerToLogic) => this.onMessage(worker.id, message));
    worker.on('exit', () => this.detach(link));
  }

  /** A dead worker's connections are gone with it: their sessions leave presence. */
  private detach(link: WorkerLink): void {
    this.workers.delete(String(link.worker.id));
    for (const session of link.sessions.values()) this.logic.disconnected(session);
    link.sessions.clear();
  }

  /** Sessions held by live workers. */
  get sessionCount(): number {
    let n = 0;
    for (const link of this.workers.values()) n += link.sessions.size;
    return n;
  }

  /** Every worker's gateway figures; a worker that does not answer within `timeoutMs` is left out. */
  async snapshots(timeoutMs: number): Promise<WorkerMetrics[]> {
    const asks = [...this.workers.values()].map(
      ({ worker }) =>
        new Promise<WorkerMetrics | undefined>((resolve) => {
          if (!worker.isConnected()) return resolve(undefined);
          const id = this.nextSnapshot++;
          const timer = setTimeout(() => {
            this.snapshotWaiting.delete(id);
            resolve(undefined);
          }, timeoutMs);
          this.snapshotWaiting.set(id, (value) => {
            clearTimeout(timer);
            resolve({ worker: String(worker.id), ...value });
          });
          const request: LogicToWorker = { kind: 'snapshotRequest', id };
          worker.send(request);
        }),
    );
    return (await Promise.all(asks)).filter((m): m is WorkerMetrics => m !== undefined);
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
    if (message.kind === 'disconnected') {
      this.workers.get(String(workerId))?.sessions.delete(message.session.connectionId);
      return this.logic.disconnected(message.session);
    }
    if (message.kind === 'roomLeft') return this.logic.roomLeft(message.session, message.roomId);
    if (message.kind === 'snapshot') {
      const waiting = this.snapshotWaiting.get(message.id);
      this.snapshotWaiting.delete(message.id);
      return waiting?.(message.value);
    }
    if (message.kind !== 'call') return;
    const reply = String(workerId);
    const authenticating = message.call.method !== 'request';
    this.run(message.call).then(
      (value) => {
        if (authenticating) {
          const { session } = value as AuthResult;
          this.workers.get(reply)?.sessions.set(session.connectionId, session);
        }
        this.send(reply, { kind: 'result', id: message.id, value });
      },
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
