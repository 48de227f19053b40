/**
 * The seam as messages between gateway worker processes and the logic process. Calls carry the
 * LogicApi method and its arguments; results carry a value or a protocol error code; pushes carry
 * the entry's encoded body once for all the worker's connections that receive it. What one turn
 * of the event loop produces for a process travels as one batch.
 */
import type { BodyOf } from '../../protocol/bodies.ts';
import type { PreparedBody } from '../../codec/index.ts';
import type { ClientInfo, ConnectionId, RoomBroadcastBatch, SessionInfo, SessionRequestName } from '../seam.ts';
import type { WorkerMetrics } from '../ops/metrics.ts';

export type LogicCall =
  | { readonly method: 'register'; readonly client: ClientInfo; readonly body: BodyOf<'register'> }
  | { readonly method: 'login'; readonly client: ClientInfo; readonly body: BodyOf<'login'> }
  | { readonly method: 'request'; readonly session: SessionInfo; readonly name: SessionRequestName; readonly body: unknown };

export type WorkerToLogic =
  | { readonly kind: 'call'; readonly id: number; readonly call: LogicCall }
  | { readonly kind: 'disconnected'; readonly session: SessionInfo }
  | { readonly kind: 'roomLeft'; readonly session: SessionInfo; readonly roomId: string }
  | { readonly kind: 'listening'; readonly port: number; readonly tlsPort: number | undefined }
  | { readonly kind: 'snapshot'; readonly id: number; readonly value: Omit<WorkerMetrics, 'worker'> }
  | { readonly kind: 'batch'; readonly messages: readonly WorkerToLogic[] };

export type LogicToWorker =
  | { readonly kind: 'result'; readonly id: number; readonly value: unknown }
  | { readonly kind: 'failure'; readonly id: number; readonly code: number; readonly message: string }
  | { readonly kind: 'push'; readonly connectionIds: readonly ConnectionId[]; readonly body: PreparedBody }
  | { readonly kind: 'kick'; readonly connectionId: ConnectionId; readonly body: BodyOf<'kick'> }
  | { readonly kind: 'room'; readonly batch: RoomBroadcastBatch }
  | { readonly kind: 'snapshotRequest'; readonly id: number }
  /** Drain now (as on SIGTERM), telling clients these other gateways. */
  | { readonly kind: 'drain'; readonly alternatives: BodyOf<'goAway'>['alternatives'] }
  | { readonly kind: 'batch'; readonly messages: readonly LogicToWorker[] };

/** Connection ids start with the worker id, so the logic knows which worker holds a connection. */
export function workerOf(connectionId: ConnectionId): string {
  const dot = connectionId.indexOf('.');
  return dot < 0 ? connectionId : connectionId.slice(0, dot);
}
