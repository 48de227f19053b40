/**
 * The one seam between the gateway (sockets, frames, heartbeats, push windows) and the logic
 * (users, devices, conversations, persistence). Everything that crosses it is plain data, so the
 * two halves can run in one process (direct calls) or in separate processes (IPC or RPC).
 */
import type { BodyOf } from '../protocol/bodies.ts';
import type { PushPayload } from './push-payload.ts';

/** Opaque id of one gateway connection, unique within the node ("<worker>.<counter>"). */
export type ConnectionId = string;

export interface ClientInfo {
  readonly connectionId: ConnectionId;
  readonly remoteAddress: string;
  readonly client: string;
}

/** What the gateway knows about an authenticated connection. */
export interface SessionInfo {
  readonly connectionId: ConnectionId;
  readonly userId: string;
  readonly deviceId: string;
  readonly platform: number;
}

export interface AuthResult {
  readonly session: SessionInfo;
  readonly reply: BodyOf<'session'>;
}

/** Requests an authenticated session may make, each with its reply body. */
export interface SessionRequests {
  send: { body: BodyOf<'send'>; reply: BodyOf<'sendAck'> };
  sync: { body: BodyOf<'sync'>; reply: BodyOf<'syncPage'> };
  history: { body: BodyOf<'history'>; reply: BodyOf<'historyPage'> };
  conversations: { body: BodyOf<'conversations'>; reply: BodyOf<'conversationList'> };
  markRead: { body: BodyOf<'markRead'>; reply: BodyOf<'ok'> };
  recall: { body: BodyOf<'recall'>; reply: BodyOf<'ok'> };
  deleteForMe: { body: BodyOf<'deleteForMe'>; reply: BodyOf<'ok'> };
  logout: { body: BodyOf<'logout'>; reply: BodyOf<'ok'> };
  revokeToken: { body: BodyOf<'revokeToken'>; reply: BodyOf<'ok'> };
  groupCreate: { body: BodyOf<'groupCreate'>; reply: BodyOf<'groupInfo'> };
  groupInvite: { body: BodyOf<'groupInvite'>; reply: BodyOf<'ok'> };
  groupLeave: { body: BodyOf<'groupLeave'>; reply: BodyOf<'ok'> };
  groupMembers: { body: BodyOf<'groupMembers'>; reply: BodyOf<'groupMemberPage'> };
  groupGet: { body: BodyOf<'groupGet'>; reply: BodyOf<'groupInfo'> };
  groupJoin: { body: BodyOf<'groupJoin'>; reply: BodyOf<'groupInfo'> };
  groupRemove: { body: BodyOf<'groupRemove'>; reply: BodyOf<'ok'> };
  groupSetRole: { body: BodyOf<'groupSetRole'>; reply: BodyOf<'ok'> };
  groupMute: { body: BodyOf<'groupMute'>; reply: BodyOf<'ok'> };
  groupUpdate: { body: BodyOf<'groupUpdate'>; reply: BodyOf<'ok'> };
  groupDissolve: { body: BodyOf<'groupDissolve'>; reply: BodyOf<'ok'> };
  groupSend: { body: BodyOf<'groupSend'>; reply: BodyOf<'sendAck'> };
  groupSync: { body: BodyOf<'groupSync'>; reply: BodyOf<'groupSyncPage'> };
  groupReceipts: { body: BodyOf<'groupReceipts'>; reply: BodyOf<'groupReceiptCounts'> };
}

export type SessionRequestName = keyof SessionRequests;

/** Implemented by the logic, called by the gateway. Failures are ProtocolErrors with spec codes. */
export interface LogicApi {
  register(client: ClientInfo, body: BodyOf<'register'>): Promise<AuthResult>;
  login(client: ClientInfo, body: BodyOf<'login'>): Promise<AuthResult>;
  request<N extends SessionRequestName>(session: SessionInfo, name: N, body: SessionRequests[N]['body']): Promise<SessionRequests[N]['reply']>;
  /** The connection is gone (closed, kicked or failed); the logic forgets its presence. */
  disconnected(session: SessionInfo): void;
}

/** Implemented by the gateway, called by the logic. Both are fire-and-forget. */
export interface GatewayApi {
  /**
   * Queues one inbox entry for reliable delivery (window, SID, retransmission) on every listed
   * connection; the entry is encoded once for all of them.
   */
  push(connectionIds: readonly ConnectionId[], payload: PushPayload): void;
  /** Sends a kick frame and closes the connection. */
  kick(connectionId: ConnectionId, body: BodyOf<'kick'>): void;
}
