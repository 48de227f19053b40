/** Routing on one node: every connection is local, presence is an in-memory map. */
import type { BodyOf } from '../../protocol/bodies.ts';
import type { PushPayload } from '../push-payload.ts';
import type { ConnectionId, SessionInfo } from '../seam.ts';
import type { DeviceRef, LocalDelivery, Route, Routing } from './port.ts';
import { Presence } from './presence.ts';

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

  revokeAndKick(route: Route, body: BodyOf<'kick'>): void {
    void this.local?.revokeAndKick(route.session.connectionId, body);
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
