/**
 * The room broadcast across nodes sharing Redis: one pub/sub channel per room. A node publishes
 * the messages of one turn as one message per room (through the same per-turn coalescer as one
 * node), and subscribes to the channels of the rooms it has viewers in, so a node hears only its
 * rooms; the batch reaches its gateways from the channel, its own publishes included, so every
 * node sees one room's batches in the same order. A join is answered once its SUBSCRIBE is
 * confirmed, so a viewer misses nothing published after the answer. Pub/sub is at most once: a
 * batch missed during a Redis reconnect is not replayed, and viewers pull the reliable messages
 * they miss by seq.
 *
 * Online counts: every `countEveryMs` each node writes its viewers per watched room into the
 * room's hash (field = node id, expiring with the node) and reads back the sum of all nodes.
 */
import type { Redis } from 'ioredis';
import { MAX_ROOM_BATCH, RoomMessage, type RoomMessageRecord } from '../../protocol/bodies.ts';
import { list, record, uint } from '../../protocol/schema.ts';
import type { RoomBroadcast, RoomSink, RoomState } from '../../server/logic/rooms/broadcast.ts';
import { TurnCoalescer } from '../../server/logic/rooms/broadcast.ts';
import { connectRedis, type RedisConnection } from './connect.ts';
import { DEFAULT_KEY_PREFIX, Keys } from './keys.ts';

/** One channel message: a turn's messages of one room. More than a batch may be published in one turn. */
const ChannelBatch = record({ reliableSeq: uint, online: uint, messages: list(RoomMessage, 64 * MAX_ROOM_BATCH) });

export interface RedisRoomBroadcastOptions extends RedisConnection {
  readonly nodeId: string;
  readonly keyPrefix?: string;
  /** How often viewer counts are written and summed. Default 2 s; a node's count expires after 3 intervals. */
  readonly countEveryMs?: number;
  /** Failures of fire-and-forget work (publishes, subscriptions, malformed channel messages). */
  readonly onError?: (error: unknown) => void;
}

export class RedisRoomBroadcast implements RoomBroadcast {
  private sink: RoomSink | undefined;
  private readonly coalescer: TurnCoalescer;
  /** Viewers on this node per room it listens to. */
  private readonly local = new Map<string, number>();
  /** Each watched room's SUBSCRIBE, settled once the channel is heard. */
  private readonly subscribed = new Map<string, Promise<void>>();
  /** The last summed count per watched room. */
  private readonly totals = new Map<string, number>();
  private readonly keys: Keys;
  private readonly onError: (error: unknown) => void;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly options: RedisRoomBroadcastOptions,
  ) {
    this.keys = new Keys(options.keyPrefix ?? DEFAULT_KEY_PREFIX);
    this.onError = options.onError ?? (() => undefined);
    this.coalescer = new TurnCoalescer((batch) => {
      const payload = JSON.stringify(ChannelBatch.toWire({ reliableSeq: batch.reliableSeq, online: batch.online, messages: [...batch.messages] }));
      this.redis.publish(this.keys.roomChannel(batch.roomId), payload).catch(this.onError);
    });
    subscriber.on('message', (channel: string, message: string) => this.onChannel(channel, message));
    this.timer = setInterval(() => void this.count().catch(this.onError), options.countEveryMs ?? 2_000);
    this.timer.unref();
  }

  /** Connects a command connection and a subscriber connection. */
  static async open(options: RedisRoomBroadcastOptions): Promise<RedisRoomBroadcast> {
    const redis = await connectRedis(options);
    try {
      return new RedisRoomBroadcast(redis, await connectRedis(options), options);
    } catch (error) {
      redis.disconnect();
      throw error;
    }
  }

  attach(local: RoomSink): void {
    this.sink = local;
  }

  publish(roomId: string, message: RoomMessageRecord, state: RoomState): void {
    this.coalescer.add(roomId, message, state);
  }

  viewers(roomId: string, count: number): Promise<void> {
    const channel = this.keys.roomChannel(roomId);
    if (count === 0) {
      this.subscribed.delete(roomId);
      if (this.local.delete(roomId)) this.subscriber.unsubscribe(channel).catch(this.onError);
      this.totals.delete(roomId);
      this.redis.hdel(this.keys.roomOnline(roomId), this.options.nodeId).catch(this.onError);
      return Promise.resolve();
    }
    this.local.set(roomId, count);
    let subscribed = this.subscribed.get(roomId);
    if (!subscribed) {
      // SUBSCRIBE answers once the server delivers the channel to this connection.
      subscribed = this.subscriber.subscribe(channel).then(
        () => undefined,
        (error: unknown) => {
          this.subscribed.delete(roomId);
          this.onError(error);
        },
      );
      this.subscribed.set(roomId, subscribed);
    }
    return subscribed;
  }

  online(roomId: string, local: number): number {
    return this.totals.get(roomId) ?? local;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([this.subscriber.quit(), this.redis.quit()]).catch(this.onError);
  }

  /** Writes this node's counts and reads every node's, one pipeline per interval. */
  async count(): Promise<void> {
    if (this.local.size === 0) return;
    const ttlMs = 3 * (this.options.countEveryMs ?? 2_000);
    const rooms = [...this.local];
    const pipeline = this.redis.pipeline();
    for (const [roomId, count] of rooms) {
      const key = this.keys.roomOnline(roomId);
      pipeline.hset(key, this.options.nodeId, count).pexpire(key, ttlMs).hvals(key);
    }
    const replies = (await pipeline.exec()) ?? [];
    rooms.forEach(([roomId], i) => {
      const values = replies[i * 3 + 2]?.[1];
      if (Array.isArray(values)) this.totals.set(roomId, values.reduce((sum: number, v) => sum + Number(v), 0));
    });
  }

  private onChannel(channel: string, message: string): void {
    const prefix = this.keys.roomChannel('');
    if (!channel.startsWith(prefix)) return;
    try {
      const batch = ChannelBatch.check(JSON.parse(message), 'room batch');
      this.sink?.({ roomId: channel.slice(prefix.length), ...batch });
    } catch (error) {
      this.onError(error);
    }
  }
}
