/**
 * The seam as messages between gateway worker processes and the logic process. Calls carry the
 * LogicApi method and its arguments; results carry a value or a protocol error code.
 */
import type { BodyOf } from '../../protocol/bodies.ts';
import type { ClientInfo, ConnectionId, SessionInfo, SessionRequestName } from '../seam.ts';

export type LogicCall =
  | { readonly method: 'register'; readonly client: ClientInfo; readonly body: BodyOf<'register'> }
  | { readonly method: 'login'; readonly client: ClientInfo; readonly body: BodyOf<'login'> }
  | { readonly method: 'request'; readonly session: SessionInfo; readonly name: SessionRequestName; readonly body: unknown };

export type WorkerToLogic =
  | { readonly kind: 'call'; readonly id: number; readonly call: LogicCall }
  | { readonly kind: 'disconnected'; readonly session: SessionInfo }
  | { readonly kind: 'listening'; readonly port: number; readonly tlsPort: number | undefined };

export type LogicToWorker =
  | { readonly kind: 'result'; readonly id: number; readonly value: unknown }
  | { readonly kind: 'failure'; readonly id: number; readonly code: number; readonly message: string }
  | { readonly kind: 'push'; readonly connectionId: ConnectionId; readonly entry: BodyOf<'push'> }
  | { readonly kind: 'kick'; readonly connectionId: ConnectionId; readonly body: BodyOf<'kick'> };

/** Connection ids start with the worker id, so the logic knows which worker holds a connection. */
export function workerOf(connectionId: ConnectionId): string {
  const dot = connectionId.indexOf('.');
  return dot < 0 ? connectionId : connectionId.slice(0, dot);
}
