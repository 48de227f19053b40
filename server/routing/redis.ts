/**
 * Routing across server nodes that share Redis (DESIGN §1 "Many nodes"). The online registry is
 * one hash per user, device id → { node, connection, platform, expiry }; each node refreshes the
 * entries of its own connections while they live and removes them when they close, so the entries
 * of a node that died expire on their own. Each node subscribes to its channel `…node:<id>`: an
 * entry for a user goes directly to this node's connections and as one message per other node,
 * carrying that node's connection ids; kicks, and token revocations with their kick, travel the
 * same way (a connection's token is known to the node holding it). Those messages are checked
 * against the protocol's schemas before anything is delivered (node-message.ts): a malformed
 * one is dropped and counted. The clock and the refresh timer are injected.
 */
import type { Redis } from 'ioredis';
import type { BodyOf } from '../../protocol/bodies.ts';
import { connectRedis, type RedisConnection } from '../../storage/redis/connect.ts';
import { toArray } from '../../storage/redis/errors.ts';
import { DEFAULT_KEY_PREFIX, Keys } from '../../storage/redis/keys.ts';
import { LuaScript } from '../../storage/redis/script.ts';
import { systemClock, type Clock } from '../logic/clock.ts';
import type { ConnectionId, SessionInfo } from '../seam.ts';
import { PushPayload } from '../push-payload.ts';
import { decodeNodeMessage, encodeNodeMessage, type NodeMessage } from './node-message.ts';
import type { DeviceRef, LocalDelivery, Route, Routing } from './port.ts';

export interface RedisRoutingOptions extends RedisConnection {
  /** This node's id: unique among the nodes sharing the Redis server and key prefix. */
  readonly nodeId: string;
  readonly keyPrefix?: string;
  /** How long an entry lives without a refresh. Default 90 s. */
  readonly ttlMs?: number;
  /** How often this node refreshes its entries. Default a third of the TTL. */
  readonly refreshMs?: number;
  /** Failures of fire-and-forget work (pushes, refreshes, removals, malformed node messages). */
  readonly onError?: (error: unknown) => void;
  /** Stamps and checks entry expiries. Default the system clock. */
  readonly clock?: Clock;
  /** Runs the refresh every `ms`; returns what stops it. Default setInterval, not keeping the process alive. */
  readonly every?: Every;
}

export type Every = (ms: number, run: () => void) => () => void;

const systemEvery: Every = (ms, run) => {
  const timer = setInterval(run, ms);
  timer.unref();
  return () => clearInterval(timer);
};

/** A registry entry, as JSON (the scripts read it with cjson). */
interface Entry {
  readonly n: string;
  readonly c: ConnectionId;
  readonly p: number;
  readonly e: number;
}

/** A registry entry as read back; the hash is shared, so its values are checked, not trusted. */
function parseEntry(stored: string): Entry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(stored);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { n, c, p, e } = value as Record<string, unknown>;
  return typeof n === 'string' && typeof c === 'string' && typeof p === 'number' && typeof e === 'number' ? { n, c, p, e } : undefined;
}

/**
 * KEYS: online hash. ARGV: device id, entry, platform, now, ttl ms.
 * Drops expired entries, removes and returns (device, entry pairs) those the new one replaces.
 */
const addScript = new LuaScript(
  'routingAdd',
  `local replaced = {}
local all = redis.call('HGETALL', KEYS[1])
local platform = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
for i = 1, #all, 2 do
  local entry = cjson.decode(all[i + 1])
  if entry.e < now then
    redis.call('HDEL', KEYS[1], all[i])
  elseif all[i] == ARGV[1] or entry.p == platform then
    table.insert(replaced, all[i])
    table.insert(replaced, all[i + 1])
    redis.call('HDEL', KEYS[1], all[i])
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return replaced`,
);

/** Script prelude: ends with 0 unless the device's entry (KEYS[1], ARGV[1]) is still node ARGV[2]'s connection ARGV[3]. */
const STILL_THAT_CONNECTION = `local stored = redis.call('HGET', KEYS[1], ARGV[1])
if not stored then return 0 end
local entry = cjson.decode(stored)
if entry.n ~= ARGV[2] or entry.c ~= ARGV[3] then return 0 end
`;

/** KEYS: online hash. ARGV: device id, node id, connection id. Deletes the entry if it is that connection's. */
const removeScript = new LuaScript(
  'routingRemove',
  `${STILL_THAT_CONNECTION}return redis.call('HDEL', KEYS[1], ARGV[1])`,
);

/**
 * KEYS: online hash. ARGV: device id, node id, connection id, new entry, ttl ms. Extends the
 * entry if it is still that connection's, and writes it again if it is gone (Redis lost it: a
 * restart or a flush), so a device that stayed connected is found again by the next refresh;
 * an entry of another connection (the device logged in again elsewhere) is left alone.
 */
const refreshScript = new LuaScript(
  'routingRefresh',
  `local stored = redis.call('HGET', KEYS[1], ARGV[1])
if stored then
  local entry = cjson.decode(stored)
  if entry.n ~= ARGV[2] or entry.c ~= ARGV[3] then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`,
);

export class RedisRouting implements Routing {
  private local: LocalDelivery | undefined;
  /** This node's live sessions, by connection id, for the refresh. */
  private readonly sessions = new Map<ConnectionId, SessionInfo>();
  private readonly keys: Keys;
  private readonly ttlMs: number;
  private readonly stopRefresh: () => void;
  private readonly onError: (error: unknown) => void;
  private readonly clock: Clock;
  private malformed = 0;
  private unreadable = 0;

  private constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly options: RedisRoutingOptions,
  ) {
    this.keys = new Keys(options.keyPrefix ?? DEFAULT_KEY_PREFIX);
    this.ttlMs = options.ttlMs ?? 90_000;
    this.onError = options.onError ?? (() => {});
    this.clock = options.clock ?? systemClock;
    this.stopRefresh = (options.every ?? systemEvery)(options.refreshMs ?? Math.floor(this.ttlMs / 3), () => this.refresh());
    subscriber.on('messageBuffer', (_channel: Buffer, message: Buffer) => this.onNodeMessage(message));
  }

  /** Connects (one connection for commands, one for the node's channel) and subscribes. */
  static async open(options: RedisRoutingOptions): Promise<RedisRouting> {
    const redis = await connectRedis(options, [addScript, removeScript, refreshScript]);
    let subscriber: Redis;
    try {
      subscriber = await connectRedis(options);
      await subscriber.subscribe(new Keys(options.keyPrefix ?? DEFAULT_KEY_PREFIX).nodeChannel(options.nodeId));
    } catch (error) {
      redis.disconnect();
      throw error;
    }
    return new RedisRouting(redis, subscriber, options);
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  /** Node messages dropped as malformed, and registry entries skipped as unreadable, since start. */
  get dropped(): { nodeMessages: number; entries: number } {
    return { nodeMessages: this.malformed, entries: this.unreadable };
  }

  attach(local: LocalDelivery): void {
    this.local = local;
  }

  async add(session: SessionInfo): Promise<Route[]> {
    this.sessions.set(session.connectionId, session);
    const now = this.clock.now();
    const reply = toArray(
      'routing add',
      await addScript.run(this.redis, [this.keys.online(session.userId)], [session.deviceId, this.entry(session, now), session.platform, now, this.ttlMs]),
    );
    const replaced: Route[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const deviceId = String(reply[i]);
      const entry = this.readEntry(String(reply[i + 1]));
      if (!entry) continue;
      replaced.push({ nodeId: entry.n, session: { connectionId: entry.c, userId: session.userId, deviceId, platform: entry.p } });
      // A replaced session of this node is no longer one of its sessions (as in local.ts), even before it closes.
      if (entry.n === this.nodeId && entry.c !== session.connectionId) this.sessions.delete(entry.c);
    }
    return replaced;
  }

  remove(session: SessionInfo): void {
    if (this.sessions.get(session.connectionId)?.deviceId === session.deviceId) this.sessions.delete(session.connectionId);
    removeScript.run(this.redis, [this.keys.online(session.userId)], [session.deviceId, this.nodeId, session.connectionId]).catch(this.onError);
  }

  push(userId: string, payload: PushPayload, exceptDeviceId?: string, offline?: () => void): void {
    this.redis.hgetall(this.keys.online(userId)).then((devices) => {
      const now = this.clock.now();
      const byNode = new Map<string, ConnectionId[]>();
      for (const [deviceId, stored] of Object.entries(devices)) {
        if (deviceId === exceptDeviceId) continue;
        const route = this.readEntry(stored);
        if (!route || route.e < now) continue;
        const connections = byNode.get(route.n);
        if (connections) connections.push(route.c);
        else byNode.set(route.n, [route.c]);
      }
      if (byNode.size === 0) offline?.();
      for (const [nodeId, connectionIds] of byNode) {
        if (nodeId === this.nodeId) this.local?.push(connectionIds, payload);
        else if (payload.entry) this.publish(nodeId, { kind: 'push', connectionIds, entry: payload.entry });
      }
    }, this.onError);
  }

  async devices(userId: string): Promise<Route[]> {
    const devices = await this.redis.hgetall(this.keys.online(userId));
    const now = this.clock.now();
    const routes: Route[] = [];
    for (const [deviceId, stored] of Object.entries(devices)) {
      const entry = this.readEntry(stored);
      if (entry && entry.e >= now) routes.push({ nodeId: entry.n, session: { connectionId: entry.c, userId, deviceId, platform: entry.p } });
    }
    return routes;
  }

  online(): { users: number; sessions: number } {
    const users = new Set<string>();
    for (const session of this.sessions.values()) users.add(session.userId);
    return { users: users.size, sessions: this.sessions.size };
  }

  kick(route: Route, body: BodyOf<'kick'>): void {
    if (route.nodeId === this.nodeId) this.local?.kick(route.session.connectionId, body);
    else this.publish(route.nodeId, { kind: 'kick', connectionId: route.session.connectionId, body });
  }

  revokeAndKick(route: Route, body: BodyOf<'kick'>): void {
    if (route.nodeId === this.nodeId) this.local?.revokeAndKick(route.session.connectionId, body).catch(this.onError);
    else this.publish(route.nodeId, { kind: 'revokeAndKick', connectionId: route.session.connectionId, body });
  }

  /** Removes this node's entries and disconnects. */
  /** One lookup per user; a node-level member index would save them for large groups. */
  pushToUsers(userIds: readonly string[], payload: PushPayload, except?: DeviceRef): void {
    for (const userId of userIds) this.push(userId, payload, userId === except?.userId ? except.deviceId : undefined);
  }

  /** Removes this node's entries and disconnects. */
  async close(): Promise<void> {
    this.stopRefresh();
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(
      sessions.map((session) => removeScript.run(this.redis, [this.keys.online(session.userId)], [session.deviceId, this.nodeId, session.connectionId])),
    ).catch(this.onError);
    await Promise.all([this.subscriber.quit(), this.redis.quit()]).catch(this.onError);
  }

  private entry(session: SessionInfo, now: number): string {
    const entry: Entry = { n: this.nodeId, c: session.connectionId, p: session.platform, e: now + this.ttlMs };
    return JSON.stringify(entry);
  }

  private readEntry(stored: string): Entry | undefined {
    const entry = parseEntry(stored);
    if (!entry) this.unreadable++;
    return entry;
  }

  private refresh(): void {
    const now = this.clock.now();
    for (const session of this.sessions.values()) {
      refreshScript
        .run(this.redis, [this.keys.online(session.userId)], [session.deviceId, this.nodeId, session.connectionId, this.entry(session, now), this.ttlMs])
        .catch(this.onError);
    }
  }

  private publish(nodeId: string, message: NodeMessage): void {
    this.redis.publish(this.keys.nodeChannel(nodeId), encodeNodeMessage(message)).catch(this.onError);
  }

  private onNodeMessage(raw: Buffer): void {
    let message: NodeMessage;
    try {
      message = decodeNodeMessage(raw);
    } catch (error) {
      this.malformed++;
      return this.onError(error);
    }
    if (message.kind === 'push') this.local?.push(message.connectionIds, PushPayload.of(message.entry));
    else if (message.kind === 'kick') this.local?.kick(message.connectionId, message.body);
    else if (message.kind === 'revokeAndKick') this.local?.revokeAndKick(message.connectionId, message.body).catch(this.onError);
  }
}
