/** The logic behind the seam: sessions, presence, messaging and sync, on the storage ports. */
import type { BodyOf } from '../../protocol/bodies.ts';
import { EntryType, KickReason, MAX_PAGE_ENTRIES, type MessageRecord } from '../../protocol/bodies.ts';
import { ErrorCode, ProtocolError } from '../../protocol/errors.ts';
import type { Stores } from '../../storage/ports.ts';
import type { AuthResult, ClientInfo, GatewayApi, LogicApi, SessionInfo, SessionRequestName, SessionRequests } from '../seam.ts';
import { Admin } from './admin.ts';
import { Auth, type AuthOptions } from './auth.ts';
import type { Passwords } from './passwords.ts';
import { SendQuota, type SendQuotaPolicy } from './send-quota.ts';
import { Conversations, DEFAULT_CONVERSATIONS } from './conversations.ts';
import type { Clock } from './clock.ts';
import { Messaging, type AfterSend } from './messaging.ts';
import { PreSend } from './pre-send.ts';
import { PushPayload } from '../push-payload.ts';
import { LocalRouting } from '../routing/local.ts';
import type { Routing } from '../routing/port.ts';
import { Sync } from './sync.ts';
import { LocalRoomBroadcast, type RoomBroadcast } from './rooms/broadcast.ts';
import { defaultRoomOptions, Rooms, type RoomOptions } from './rooms/rooms.ts';
import { fitConversations, pageBudgetFor, type PageBudget } from './page-budget.ts';
import { DEFAULT_MAX_FRAME_SIZE } from '../../protocol/header.ts';
import { Limits } from '../../protocol/timers.ts';
import { Groups } from './groups/groups.ts';
import type { GroupLimits } from './groups/membership.ts';

export interface LogicOptions {
  readonly auth: AuthOptions;
  readonly recallWindowMs?: number;
  /** Byte budget of pages (sync, history, conversation lists); default for a 1 MiB frame. */
  readonly pageBudget?: PageBudget;
  /** Messages and content bytes per user per window; default DEFAULT_SEND_QUOTA. */
  readonly sendQuota?: SendQuotaPolicy;
  /** Where users' devices are connected; default one node, in memory. */
  readonly routing?: Routing;
  readonly groups?: GroupLimits;
  /** Where room messages are published; default this node's gateways only. */
  readonly roomBroadcast?: RoomBroadcast;
  readonly rooms?: Partial<RoomOptions>;
  /** Masks or rejects message content before it is stored (content-filter/). */
  readonly contentFilter?: { apply(content: string): string };
  /** Told of each message whose receiver has no online device (the offline-push webhook). */
  readonly offline?: OfflineHook;
  /** Told of each message stored, 1:1 and group posts (the optional after-send webhook events). */
  readonly afterSend?: AfterSend;
}

export interface OfflineMessage {
  readonly userId: string;
  readonly message: MessageRecord;
}

export type OfflineHook = (event: OfflineMessage) => void;

type Handlers = { [N in SessionRequestName]: (session: SessionInfo, body: SessionRequests[N]['body']) => Promise<SessionRequests[N]['reply']> };

export class Logic implements LogicApi {
  readonly routing: Routing;
  readonly roomBroadcast: RoomBroadcast;
  private readonly rooms: Rooms;
  readonly admin: Admin;
  private gateway: GatewayApi | undefined;
  private readonly auth: Auth;
  /** Password hashing, exposed so tests can count scrypt derivations. */
  readonly passwords: Passwords;
  private readonly messaging: Messaging;
  private readonly syncing: Sync;
  private readonly conversations: Conversations;
  private readonly groups: Groups;
  private readonly handlers: Handlers;
  private readonly budget: PageBudget;
  private readonly offline: OfflineHook | undefined;

  constructor(stores: Stores, clock: Clock, options: LogicOptions) {
    this.routing = options.routing ?? new LocalRouting();
    this.offline = options.offline;
    const budget = options.pageBudget ?? pageBudgetFor(DEFAULT_MAX_FRAME_SIZE, Limits.pageBudgetBytes);
    this.budget = budget;
    this.auth = new Auth(stores.accounts, stores.tokens, stores.inbox, clock, options.auth);
    this.roomBroadcast = options.roomBroadcast ?? new LocalRoomBroadcast();
    this.rooms = new Rooms(stores.roomLog, this.roomBroadcast, clock, { ...defaultRoomOptions, ...options.rooms });
    this.passwords = this.auth.passwords;
    // One check for everything a user sends, 1:1 and to groups: sanctions, one quota per user, the filter.
    const filter = options.contentFilter;
    const filterContent = filter ? (content: string) => filter.apply(content) : undefined;
    const preSend = new PreSend(stores.moderation, clock, new SendQuota(clock, options.sendQuota), filterContent);
    this.messaging = new Messaging(stores, clock, (userId, entry, except) => this.fanout(userId, entry, except), preSend, options.afterSend);
    this.conversations = new Conversations(stores, clock, (userId, entry, except) => this.fanout(userId, entry, except), {
      recallWindowMs: options.recallWindowMs ?? 2 * 60 * 1000,
      budget,
    });
    this.syncing = new Sync(stores.inbox, stores.history, (userId, messages) => this.conversations.visible(userId, messages), budget);
    const pages = {
      budget,
      visible: (userId: string, messages: MessageRecord[]) => this.conversations.visible(userId, messages),
      history: (userId: string, body: BodyOf<'history'>, fromSeq: number) => this.syncing.readableHistory(userId, body, fromSeq),
    };
    this.groups = new Groups(stores, clock, () => this.routing, (userId, entry, except) => this.fanout(userId, entry, except), preSend, pages, options.groups, options.afterSend);
    this.admin = new Admin(this.routing, this.auth, { messaging: this.messaging, groups: this.groups, rooms: this.rooms }, stores.accounts, stores.moderation, clock);
    const inGroup = (conversationId: string) => this.groups.groupOf(conversationId);
    this.handlers = {
      ...this.groups.handlers,
      send: (s, b) => this.messaging.send(s, b),
      sync: (s, b) => this.syncing.sync(s, b),
      history: (s, b) => {
        const groupId = inGroup(b.conversationId);
        return groupId === undefined ? this.syncing.historyPage(s, b) : this.groups.history(s, groupId, b);
      },
      conversations: (s, b) => this.conversationList(s, b),
      markRead: (s, b) => {
        const groupId = inGroup(b.conversationId);
        return groupId === undefined ? this.conversations.markRead(s, b) : this.groups.markRead(s, groupId, b);
      },
      recall: (s, b) => {
        if (inGroup(b.conversationId) !== undefined) return Promise.reject(new ProtocolError(ErrorCode.unsupported, 'recall in groups is not served'));
        return this.conversations.recall(s, b);
      },
      deleteForMe: (s, b) => {
        const groupId = inGroup(b.conversationId);
        return groupId === undefined ? this.conversations.deleteForMe(s, b) : this.groups.deleteForMe(s, groupId, b);
      },
      roomJoin: (s, b) => this.rooms.join(s, b),
      roomLeave: (s, b) => this.rooms.leave(s, b),
      roomSend: (s, b) => this.rooms.send(s, b),
      roomPull: (s, b) => this.rooms.pull(s, b),
      logout: (s) => this.revoke(s, undefined),
      revokeToken: (s, b) => this.revoke(s, b.token),
    };
  }

  attachGateway(gateway: GatewayApi): void {
    this.gateway = gateway;
    this.roomBroadcast.attach((batch) => gateway.roomPublish(batch));
    this.routing.attach({
      push: (connectionIds, payload) => gateway.push(connectionIds, payload),
      kick: (connectionId, body) => {
        this.auth.forget(connectionId);
        gateway.kick(connectionId, body);
      },
      revokeAndKick: async (connectionId, body) => {
        // Kicked even when the revocation fails; the failure is still reported by the routing.
        try {
          await this.auth.revokeOfConnections([connectionId]);
        } finally {
          this.auth.forget(connectionId);
          gateway.kick(connectionId, body);
        }
      },
    });
  }

  async register(client: ClientInfo, body: BodyOf<'register'>): Promise<AuthResult> {
    return this.admit(await this.auth.register(client, body));
  }

  async login(client: ClientInfo, body: BodyOf<'login'>): Promise<AuthResult> {
    return this.admit(await this.auth.login(client, body));
  }

  request<N extends SessionRequestName>(session: SessionInfo, name: N, body: SessionRequests[N]['body']): Promise<SessionRequests[N]['reply']> {
    const handler = this.handlers[name] as Handlers[N];
    return handler(session, body);
  }

  disconnected(session: SessionInfo): void {
    this.rooms.disconnected(session);
    this.routing.remove(session);
    this.auth.forget(session.connectionId);
  }

  roomLeft(session: SessionInfo, roomId: string): void {
    this.rooms.left(session, roomId);
  }

  /** 1:1 rows and group rows in one list, most recently updated first; the total counts both. */
  private async conversationList(session: SessionInfo, body: BodyOf<'conversations'>): Promise<BodyOf<'conversationList'>> {
    const [direct, groups] = await Promise.all([this.conversations.list(session, body), this.groups.conversations(session.userId)]);
    if (groups.length === 0) return direct;
    const limit = Math.max(1, Math.min(body.limit || DEFAULT_CONVERSATIONS, MAX_PAGE_ENTRIES));
    const items = fitConversations([...direct.items, ...groups].sort((a, b) => b.updatedAt - a.updatedAt).slice(0, limit), this.budget);
    return { items, totalUnread: groups.reduce((total, row) => total + row.unread, direct.totalUnread) };
  }

  private async admit(result: AuthResult): Promise<AuthResult> {
    for (const old of await this.routing.add(result.session)) {
      const sameDevice = old.session.deviceId === result.session.deviceId;
      this.routing.kick(old, {
        reason: sameDevice ? KickReason.replacedBySameDevice : KickReason.replacedBySamePlatform,
        message: sameDevice ? 'this device logged in again' : 'another device of the same platform logged in',
      });
    }
    return result;
  }

  /** Revokes the token and kicks every other connection that logged in with it (logout and revokeToken alike). */
  private async revoke(session: SessionInfo, token: string | undefined): Promise<BodyOf<'ok'>> {
    for (const connectionId of await this.auth.revoke(session, token)) {
      this.auth.forget(connectionId);
      this.gateway?.kick(connectionId, { reason: KickReason.tokenRevoked, message: 'the session token was revoked' });
    }
    return {};
  }

  private fanout(userId: string, entry: BodyOf<'push'>, exceptDeviceId?: string): void {
    const { message } = entry;
    // Only a message to its receiver: carbons, read marks and recalls do not call for a notification.
    const hook = this.offline;
    const offline = hook && message && entry.type === EntryType.message && message.to === userId ? () => hook({ userId, message }) : undefined;
    this.routing.push(userId, PushPayload.of(entry), exceptDeviceId, offline);
  }
}
