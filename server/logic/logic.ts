/** The logic behind the seam: sessions, presence, messaging and sync, on the storage ports. */
import type { BodyOf } from '../../protocol/bodies.ts';
import { EntryType, KickReason, type MessageRecord } from '../../protocol/bodies.ts';
import type { Stores } from '../../storage/ports.ts';
import type { AuthResult, ClientInfo, GatewayApi, LogicApi, SessionInfo, SessionRequestName, SessionRequests } from '../seam.ts';
import { Admin } from './admin.ts';
import { Auth, type AuthOptions } from './auth.ts';
import { Conversations } from './conversations.ts';
import type { Clock } from './clock.ts';
import { Messaging } from './messaging.ts';
import { PushPayload } from '../push-payload.ts';
import { LocalRouting, type Routing } from './routing.ts';
import { Sync } from './sync.ts';

export interface LogicOptions {
  readonly auth: AuthOptions;
  readonly recallWindowMs?: number;
  /** Where users' devices are connected; default one node, in memory. */
  readonly routing?: Routing;
  /** Masks or rejects message content before it is stored (content-filter/). */
  readonly contentFilter?: { apply(content: string): string };
  /** Told of each message whose receiver has no online device (the offline-push webhook). */
  readonly offline?: OfflineHook;
}

export interface OfflineMessage {
  readonly userId: string;
  readonly message: MessageRecord;
}

export type OfflineHook = (event: OfflineMessage) => void;

type Handlers = { [N in SessionRequestName]: (session: SessionInfo, body: SessionRequests[N]['body']) => Promise<SessionRequests[N]['reply']> };

export class Logic implements LogicApi {
  readonly routing: Routing;
  readonly admin: Admin;
  private gateway: GatewayApi | undefined;
  private readonly auth: Auth;
  private readonly messaging: Messaging;
  private readonly syncing: Sync;
  private readonly conversations: Conversations;
  private readonly handlers: Handlers;
  private readonly offline: OfflineHook | undefined;

  constructor(stores: Stores, clock: Clock, options: LogicOptions) {
    this.routing = options.routing ?? new LocalRouting();
    this.offline = options.offline;
    this.auth = new Auth(stores.accounts, stores.tokens, stores.inbox, clock, options.auth);
    const filter = options.contentFilter;
    this.messaging = new Messaging(stores, clock, (userId, entry, except) => this.fanout(userId, entry, except), filter ? (content) => filter.apply(content) : undefined);
    this.conversations = new Conversations(stores, clock, (userId, entry, except) => this.fanout(userId, entry, except), {
      recallWindowMs: options.recallWindowMs ?? 2 * 60 * 1000,
    });
    this.admin = new Admin(this.routing, this.auth, this.messaging, stores.accounts, stores.moderation, clock);
    this.syncing = new Sync(stores.inbox, stores.history, (userId, messages) => this.conversations.visible(userId, messages));
    this.handlers = {
      send: (s, b) => this.messaging.send(s, b),
      sync: (s, b) => this.syncing.sync(s, b),
      history: (s, b) => this.syncing.historyPage(s, b),
      conversations: (s, b) => this.conversations.list(s, b),
      markRead: (s, b) => this.conversations.markRead(s, b),
      recall: (s, b) => this.conversations.recall(s, b),
      deleteForMe: (s, b) => this.conversations.deleteForMe(s, b),
      logout: async (s) => {
        await this.auth.revoke(s, undefined);
        return {};
      },
      revokeToken: async (s, b) => {
        for (const connectionId of await this.auth.revoke(s, b.token)) {
          this.auth.forget(connectionId);
          this.gateway?.kick(connectionId, { reason: KickReason.tokenRevoked, message: 'the session token was revoked' });
        }
        return {};
      },
    };
  }

  attachGateway(gateway: GatewayApi): void {
    this.gateway = gateway;
    this.routing.attach({
      push: (connectionIds, payload) => gateway.push(connectionIds, payload),
      kick: (connectionId, body) => {
        this.auth.forget(connectionId);
        gateway.kick(connectionId, body);
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
    this.routing.remove(session);
    this.auth.forget(session.connectionId);
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

  private fanout(userId: string, entry: BodyOf<'push'>, exceptDeviceId?: string): void {
    const { message } = entry;
    // Only a message to its receiver: carbons, read marks and recalls do not call for a notification.
    const hook = this.offline;
    const offline = hook && message && entry.type === EntryType.message && message.to === userId ? () => hook({ userId, message }) : undefined;
    this.routing.push(userId, PushPayload.of(entry), exceptDeviceId, offline);
  }
}
