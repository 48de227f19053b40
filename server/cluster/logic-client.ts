/**
 * In a gateway worker: the LogicApi as calls to the logic process over the cluster IPC channel,
 * and the logic's pushes and kicks delivered to the local gateway.
 */
import type { BodyOf } from '../../protocol/bodies.ts';
import { ErrorCode, ProtocolError, isErrorCode } from '../../protocol/errors.ts';
import type { AuthResult, ClientInfo, GatewayApi, LogicApi, SessionInfo, SessionRequestName, SessionRequests } from '../seam.ts';
import { PushPayload } from '../push-payload.ts';
import type { LogicCall, LogicToWorker, WorkerToLogic } from './messages.ts';
import { TurnBatch } from './turn-batch.ts';

type Channel = Pick<NodeJS.Process, 'on'> & { send(message: WorkerToLogic): boolean };

interface Waiting {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export class LogicClient implements LogicApi {
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private gateway: GatewayApi | undefined;
  private readonly outbox: TurnBatch<WorkerToLogic>;

  constructor(channel: Channel) {
    // send() returning false only means back-pressure; the message is still queued.
    this.outbox = new TurnBatch((messages) => channel.send({ kind: 'batch', messages }));
    channel.on('message', (message: LogicToWorker) => this.onMessage(message));
  }

  attachGateway(gateway: GatewayApi): void {
    this.gateway = gateway;
  }

  register(client: ClientInfo, body: BodyOf<'register'>): Promise<AuthResult> {
    return this.call({ method: 'register', client, body }) as Promise<AuthResult>;
  }

  login(client: ClientInfo, body: BodyOf<'login'>): Promise<AuthResult> {
    return this.call({ method: 'login', client, body }) as Promise<AuthResult>;
  }

  request<N extends SessionRequestName>(session: SessionInfo, name: N, body: SessionRequests[N]['body']): Promise<SessionRequests[N]['reply']> {
    return this.call({ method: 'request', session, name, body }) as Promise<SessionRequests[N]['reply']>;
  }

  disconnected(session: SessionInfo): void {
    this.outbox.add({ kind: 'disconnected', session });
  }

  roomLeft(session: SessionInfo, roomId: string): void {
    this.outbox.add({ kind: 'roomLeft', session, roomId });
  }

  private call(call: LogicCall): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.outbox.add({ kind: 'call', id, call });
    });
  }

  private onMessage(message: LogicToWorker): void {
    switch (message.kind) {
      case 'batch':
        for (const one of message.messages) this.onMessage(one);
        return;
      case 'push': {
        // Structured clone delivers the bytes as a Uint8Array; a Buffer view over them costs no copy.
        const { bytes, flags, rawLength } = message.body;
        return this.gateway?.push(message.connectionIds, PushPayload.fromPrepared({ bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), flags, rawLength }));
      }
      case 'kick':
        return this.gateway?.kick(message.connectionId, message.body);
      case 'room':
        return this.gateway?.roomPublish(message.batch);
      case 'snapshotRequest':
      case 'drain':
        // Handled by the worker's entry point, which owns the gateway, its metrics and its drain.
        return;
      case 'result':
      case 'failure': {
        const waiting = this.waiting.get(message.id);
        if (!waiting) return;
        this.waiting.delete(message.id);
        if (message.kind === 'result') return waiting.resolve(message.value);
        return waiting.reject(new ProtocolError(isErrorCode(message.code) ? message.code : ErrorCode.internal, message.message));
      }
    }
  }
}
