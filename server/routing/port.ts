/**
 * The routing port: where a user's online devices are connected, and delivery to them. On one
 * node (the embedded store) that is an in-memory map (local.ts); on many nodes sharing Redis it
 * is the online registry in Redis plus a pub/sub channel per node (redis.ts). The logic sees
 * only this port; both implementations pass one suite (spec/routing/conformance.ts).
 */
import type { BodyOf } from '../../protocol/bodies.ts';
import type { PushPayload } from '../push-payload.ts';
import type { ConnectionId, SessionInfo } from '../seam.ts';

/** A session and the node that holds its connection. */
export interface Route {
  readonly nodeId: string;
  readonly session: SessionInfo;
}

/** What a node does with deliveries addressed to its own connections. */
export interface LocalDelivery {
  push(connectionIds: readonly ConnectionId[], payload: PushPayload): void;
  kick(connectionId: ConnectionId, body: BodyOf<'kick'>): void;
  /**
   * Revokes the token the connection logged in with, then kicks it: the node that holds a
   * connection is the one that knows its token. Resolves once both are done.
   */
  revokeAndKick(connectionId: ConnectionId, body: BodyOf<'kick'>): Promise<void>;
}

export interface DeviceRef {
  readonly userId: string;
  readonly deviceId: string;
}

export interface Routing {
  /** Where deliveries to this node's connections go. Called once, before any other method. */
  attach(local: LocalDelivery): void;
  /**
   * Records the session as its device's connection and returns the sessions it replaces (same
   * device id or same platform), wherever they are connected.
   */
  add(session: SessionInfo): Promise<Route[]>;
  /** Forgets the session if it is still its device's connection. */
  remove(session: SessionInfo): void;
  /**
   * Delivers an entry to every online device of a user, optionally without one device; calls
   * `offline` when the user has no online device to deliver it to.
   */
  push(userId: string, payload: PushPayload, exceptDeviceId?: string, offline?: () => void): void;
  /**
   * Delivers one entry to every online device of many users (a group's members), without the
   * sending device: one payload, so one encode, for all of them.
   */
  pushToUsers(userIds: readonly string[], payload: PushPayload, except?: DeviceRef): void;
  /** Kicks a session returned by `add`, on whichever node holds it. */
  kick(route: Route, body: BodyOf<'kick'>): void;
  /** Revokes the session's token and kicks it, on whichever node holds it; failures go to the routing's error report. */
  revokeAndKick(route: Route, body: BodyOf<'kick'>): void;
  /** The user's online devices, wherever they are connected. */
  devices(userId: string): Promise<Route[]>;
  /** Users and sessions connected to this node. */
  online(): { users: number; sessions: number };
  close(): Promise<void>;
}
