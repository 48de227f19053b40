/**
 * Where a user's online devices are connected, and delivery to them. On one node (the embedded
 * store) that is an in-memory map; on many nodes sharing Redis it is the online registry in Redis
 * plus a pub/sub channel per node (redis-routing.ts). The logic sees only this port.
 */
import type { BodyOf } from '../../protocol/bodies.ts';
import type { PushPayload } from '../push-payload.ts';
import type { ConnectionId, SessionInfo } from '../seam.ts';
import { Presence } from './presence.ts';

/** A session and the node that holds its connection. */
export interface Route {
  readonly nodeId: string;
  readonly session: SessionInfo;
}

/** What a node does with deliveries addressed to its own connections. */
export interface LocalDelivery {
  push(connectionIds: readonly ConnectionId[], payload: PushPayload): void;
  kick(connectionId: ConnectionId, body: BodyOf<'kick'>): void;
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
  /** The user's online devices, wherever they are connected. */
  devices(userId: string): Promise<Route[]>;
  /** Users and sessions connected to this node. */
  online(): { users: number; sessions: number };
  close(): Promise<void>;
}

/** One node: every connection is local. */
export class LocalRouting implements Routing {
  private readonly presence = new Presence();
  private local: LocalDelivery | undefined;

  attach(local: LocalDelivery): void {
    this.local = local;
  }

  add(session: SessionInfo): Promise<Route[]> {
    return Promise.resolve(this.presence.add(session).map((old) => ({ nodeId: '', session: old })));
  }

  remove(session: SessionInfo): void {
    this.presence.remove(session);
  }

  push(userId: string, payload: PushPayload, exceptDeviceId?: string, offline?: () => void): void {
    const connectionIds = this.presence.connections(userId, exceptDeviceId);
    if (this.local && connectionIds.length > 0) this.local.push(connectionIds, payload);
    else offline?.();
  }

  pushToUsers(userIds: readonly string[], payload: PushPayload, except?: DeviceRef): void {
    const connectionIds: ConnectionId[] = [];
    for (const userId of userIds) this.presence.collect(userId, connectionIds, userId === except?.userId ? except.deviceId : undefined);
    if (this.local && connectionIds.length > 0) this.local.push(connectionIds, payload);
  }

  kick(route: Route, body: BodyOf<'kick'>): void {
    this.local?.kick(route.session.connectionId, body);
  }

  devices(userId: string): Promise<Route[]> {
    return Promise.resolve(this.presence.sessions(userId).map((session) => ({ nodeId: '', session })));
  }

  online(): { users: number; sessions: number } {
    return { users: this.presence.onlineUsers, sessions: this.presence.sessionCount };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
