/**
 * What an operator may do to users from outside the protocol: list and kick their devices,
 * revoke their tokens, send them a system message. Plain data in and out; the admin HTTP
 * listener (server/ops/) is one caller.
 */
import { randomBytes } from 'node:crypto';
import { KickReason, MAX_ID_LENGTH, MAX_ROOM_CONTENT_LENGTH, type BodyOf } from '../../protocol/bodies.ts';
import { ErrorCode, ProtocolError } from '../../protocol/errors.ts';
import type { AccountStore, ModerationStore, Sanctions } from '../../storage/ports.ts';
import type { SessionInfo } from '../seam.ts';
import type { Auth } from './auth.ts';
import type { Clock } from './clock.ts';
import { checkUserId } from './ids.ts';
import type { Groups } from './groups/groups.ts';
import type { Messaging } from './messaging.ts';
import type { Rooms } from './rooms/rooms.ts';
import type { Route, Routing } from '../routing/port.ts';

/** The sender of system messages: an account nobody can log in to, created at start so nobody can register it. */
export const SYSTEM_USER = 'system';

export interface DeviceInfo {
  readonly deviceId: string;
  readonly platform: number;
  readonly connectionId: string;
  /** The node holding the connection; empty on a single node. */
  readonly node: string;
}

/** Where system messages go: a user's 1:1 conversation, a group's timeline, a live room. */
export interface SystemTargets {
  readonly messaging: Pick<Messaging, 'send'>;
  readonly groups: Pick<Groups, 'systemPost'>;
  readonly rooms: Pick<Rooms, 'systemSend'>;
}

/** The same bounds as a client's send (SPEC §15.1), which the decoder enforces there. */
const MAX_CONTENT_LENGTH = 65_536;

function systemClientMsgId(): string {
  return `admin-${randomBytes(12).toString('base64url')}`;
}

export class Admin {
  private reserved: Promise<unknown> | undefined;

  constructor(
    private readonly routing: Routing,
    private readonly auth: Auth,
    private readonly targets: SystemTargets,
    private readonly accounts: AccountStore,
    private readonly moderation: ModerationStore,
    private readonly clock: Clock,
  ) {}

  /** Creates the system account if missing; its password hash matches no password. */
  reserveSystemUser(): Promise<unknown> {
    this.reserved ??= this.accounts.create({ userId: SYSTEM_USER, salt: randomBytes(16).toString('base64'), passwordHash: '!', createdAt: this.clock.now() });
    return this.reserved;
  }

  online(): { users: number; sessions: number } {
    return this.routing.online();
  }

  async devices(userId: string): Promise<DeviceInfo[]> {
    const routes = await this.routing.devices(checkUserId(userId));
    return routes.map(({ nodeId, session }) => ({ deviceId: session.deviceId, platform: session.platform, connectionId: session.connectionId, node: nodeId }));
  }

  /** Kicks the user's devices (one device when given) with reason byAdmin; returns how many. */
  async kick(userId: string, deviceId: string | undefined, message = 'disconnected by an administrator'): Promise<number> {
    const routes = await this.selected(userId, deviceId);
    for (const route of routes) this.routing.kick(route, { reason: KickReason.byAdmin, message });
    return routes.length;
  }

  /**
   * Revokes the tokens the user's online devices use, on every node, and kicks them with reason
   * tokenRevoked. This node's are revoked before the answer (and counted by distinct token); a
   * connection on another node is revoked there, then kicked, and counted as one.
   */
  async revokeTokens(userId: string, deviceId: string | undefined): Promise<{ revoked: number; kicked: number }> {
    const routes = await this.selected(userId, deviceId);
    const here = routes.filter((route) => this.auth.holds(route.session.connectionId));
    const elsewhere = routes.filter((route) => !this.auth.holds(route.session.connectionId));
    const revoked = await this.auth.revokeOfConnections(here.map((route) => route.session.connectionId));
    const body = { reason: KickReason.tokenRevoked, message: 'the session token was revoked' };
    for (const route of here) this.routing.kick(route, body);
    for (const route of elsewhere) this.routing.revokeAndKick(route, body);
    return { revoked: revoked + elsewhere.length, kicked: routes.length };
  }

  /**
   * Sets the user's sanctions for the given durations from now (0 lifts one; one not given is kept):
   * `mutedSeconds`, every send is 3002; `textOnlySeconds`, a send of a kind other than text is 3002.
   */
  async sanction(userId: string, durations: { mutedSeconds?: number; textOnlySeconds?: number }): Promise<Sanctions> {
    checkUserId(userId);
    const now = this.clock.now();
    const until = (seconds: number) => (seconds > 0 ? now + seconds * 1000 : 0);
    const current = await this.moderation.get(userId);
    const next: Sanctions = {
      mutedUntil: durations.mutedSeconds === undefined ? current.mutedUntil : until(durations.mutedSeconds),
      textOnlyUntil: durations.textOnlySeconds === undefined ? current.textOnlyUntil : until(durations.textOnlySeconds),
    };
    await this.moderation.set(userId, next);
    return next;
  }

  /** A message from the system user, stored, synced and pushed like any 1:1 message. */
  async systemMessage(userId: string, content: string, kind: number): Promise<BodyOf<'sendAck'>> {
    if (content.length > MAX_CONTENT_LENGTH) throw new ProtocolError(ErrorCode.badBody, `content above ${MAX_CONTENT_LENGTH} characters`);
    await this.reserveSystemUser();
    const sender: SessionInfo = { connectionId: 'admin', userId: SYSTEM_USER, deviceId: 'admin', platform: 0 };
    return this.targets.messaging.send(sender, { to: checkUserId(userId), clientMsgId: systemClientMsgId(), kind, content });
  }

  /** A post from the system user on a group's timeline (SPEC §18.2), pushed to every member; 3001 for no such group. */
  async groupSystemMessage(groupId: string, content: string, kind: number): Promise<BodyOf<'sendAck'>> {
    if (content.length > MAX_CONTENT_LENGTH) throw new ProtocolError(ErrorCode.badBody, `content above ${MAX_CONTENT_LENGTH} characters`);
    if (groupId.length === 0 || groupId.length > MAX_ID_LENGTH) throw new ProtocolError(ErrorCode.badBody, `a group id has 1 to ${MAX_ID_LENGTH} characters`);
    await this.reserveSystemUser();
    return this.targets.groups.systemPost(groupId, SYSTEM_USER, { clientMsgId: systemClientMsgId(), kind, content });
  }

  /** A message from the system user published once to a live room (SPEC §19.3); stored first when reliable. */
  async roomSystemMessage(roomId: string, content: string, kind: number, reliable: boolean): Promise<BodyOf<'roomSendAck'>> {
    if (content.length > MAX_ROOM_CONTENT_LENGTH) throw new ProtocolError(ErrorCode.badBody, `room content above ${MAX_ROOM_CONTENT_LENGTH} characters`);
    if (roomId.length === 0 || roomId.length > MAX_ID_LENGTH) throw new ProtocolError(ErrorCode.badBody, `a room id has 1 to ${MAX_ID_LENGTH} characters`);
    return this.targets.rooms.systemSend(roomId, SYSTEM_USER, { kind, content, reliable });
  }

  private async selected(userId: string, deviceId: string | undefined): Promise<Route[]> {
    const routes = await this.routing.devices(checkUserId(userId));
    return deviceId === undefined ? routes : routes.filter((route) => route.session.deviceId === deviceId);
  }
}
