/**
 * Live rooms (SPEC §19): join and leave with a per-device limit, sends rate-limited per sender,
 * reliable messages (gifts) persisted with the room's seq before they are published and
 * acknowledged, ordinary ones published at once and never stored. A message is published once to
 * the room broadcast; nothing here looks at viewers one by one.
 */
import type { BodyOf, RoomMessageRecord } from '../../../protocol/bodies.ts';
import { ErrorCode, ProtocolError } from '../../../protocol/errors.ts';
import { Limits } from '../../../protocol/timers.ts';
import type { RoomLogStore } from '../../../storage/ports.ts';
import type { SessionInfo } from '../../seam.ts';
import type { Clock } from '../clock.ts';
import { newMessageId } from '../ids.ts';
import type { RoomBroadcast } from './broadcast.ts';
import { RoomMembership } from './membership.ts';
import { SendRate } from './send-rate.ts';

export interface RoomOptions {
  readonly roomsPerDevice: number;
  readonly sendsPerSecond: number;
  readonly pullLimit: number;
  /** Reliable sends remembered for dedup by (room, sender, client id); the oldest is forgotten first. */
  readonly dedupEntries: number;
}

export const defaultRoomOptions: RoomOptions = {
  roomsPerDevice: Limits.roomsPerDevice,
  sendsPerSecond: Limits.roomSendsPerSecond,
  pullLimit: Limits.roomPullLimit,
  dedupEntries: 10_000,
};

type Ack = BodyOf<'roomSendAck'>;

export class Rooms {
  private readonly membership: RoomMembership;
  private readonly rate: SendRate;
  /** The latest reliable seq of rooms with members here, carried by every batch. */
  private readonly latestSeq = new Map<string, number>();
  /** Each room's last reliable publish: reliable messages are published in seq order. */
  private readonly releases = new Map<string, Promise<unknown>>();
  private readonly recent = new Map<string, Promise<Ack>>();

  constructor(
    private readonly log: RoomLogStore,
    private readonly broadcast: RoomBroadcast,
    private readonly clock: Clock,
    private readonly options: RoomOptions = defaultRoomOptions,
  ) {
    this.membership = new RoomMembership(options.roomsPerDevice);
    this.rate = new SendRate(options.sendsPerSecond);
  }

  async join(session: SessionInfo, body: BodyOf<'roomJoin'>): Promise<BodyOf<'roomJoined'>> {
    const { roomId } = body;
    const outcome = this.membership.join(session.connectionId, roomId);
    if (outcome === 'limit') throw new ProtocolError(ErrorCode.roomLimit, `a device may be in ${this.options.roomsPerDevice} rooms at once`);
    const hearing = outcome === 'joined' ? this.broadcast.viewers(roomId, this.membership.online(roomId)) : undefined;
    const [state] = await Promise.all([this.log.state(roomId), hearing]);
    this.seen(roomId, state.latestSeq);
    return { roomId, reliableSeq: this.latestSeq.get(roomId) ?? state.latestSeq, oldestSeq: state.oldestSeq, online: this.online(roomId) };
  }

  async leave(session: SessionInfo, body: BodyOf<'roomLeave'>): Promise<BodyOf<'ok'>> {
    this.left(session, body.roomId);
    return {};
  }

  async send(session: SessionInfo, body: BodyOf<'roomSend'>): Promise<Ack> {
    const { roomId } = body;
    this.member(session, roomId);
    const key = `${roomId}\0${session.userId}\0${body.clientMsgId}`;
    const earlier = body.reliable ? this.recent.get(key) : undefined;
    if (earlier) return earlier;
    // Policy at the limit: reject (4103, retryable); nothing is published or stored.
    if (!this.rate.allow(session.connectionId, this.clock.now())) throw new ProtocolError(ErrorCode.roomRateLimited);
    const sentAt = this.clock.now();
    const message = { messageId: newMessageId(sentAt), from: session.userId, kind: body.kind, content: body.content, sentAt };
    if (!body.reliable) {
      this.publish(roomId, { ...message, seq: 0 });
      return { roomId, messageId: message.messageId, seq: 0, serverTime: sentAt };
    }
    const acked = this.commit(roomId, message);
    this.remember(key, acked);
    return acked;
  }

  /**
   * A message from the system sender (the admin API), who is in no room and has no rate limit:
   * published once to the room broadcast like a viewer's; stored under the next seq first when
   * reliable. A room nobody is in hears nothing (a reliable one is still stored, for pulls).
   */
  async systemSend(roomId: string, sender: string, body: { kind: number; content: string; reliable: boolean }): Promise<Ack> {
    const sentAt = this.clock.now();
    const message = { messageId: newMessageId(sentAt), from: sender, kind: body.kind, content: body.content, sentAt };
    if (!body.reliable) {
      this.publish(roomId, { ...message, seq: 0 });
      return { roomId, messageId: message.messageId, seq: 0, serverTime: sentAt };
    }
    const acked = await this.commit(roomId, message);
    // The latest seq is kept for rooms with viewers here only.
    if (this.membership.online(roomId) === 0) this.latestSeq.delete(roomId);
    return acked;
  }

  async pull(session: SessionInfo, body: BodyOf<'roomPull'>): Promise<BodyOf<'roomPage'>> {
    this.member(session, body.roomId);
    const limit = Math.min(Math.max(body.limit ?? this.options.pullLimit, 1), this.options.pullLimit);
    const page = await this.log.range(body.roomId, body.afterSeq, limit);
    return { roomId: body.roomId, messages: page.messages, hasMore: page.hasMore, latestSeq: page.latestSeq, oldestSeq: page.oldestSeq };
  }

  /** The connection left the room, or its gateway took it out (a slow viewer). */
  left(session: SessionInfo, roomId: string): void {
    if (this.membership.leave(session.connectionId, roomId)) this.forgetIfEmpty(roomId);
  }

  disconnected(session: SessionInfo): void {
    this.rate.forget(session.connectionId);
    for (const roomId of this.membership.drop(session.connectionId)) this.forgetIfEmpty(roomId);
  }

  private commit(roomId: string, message: Omit<RoomMessageRecord, 'seq'>): Promise<Ack> {
    const appended = this.log.append(roomId, message);
    const previous = this.releases.get(roomId);
    const released = (previous ? previous.then(() => appended) : appended).then((stored) => {
      this.seen(roomId, stored.seq);
      this.publish(roomId, stored);
      return { roomId, messageId: stored.messageId, seq: stored.seq, serverTime: stored.sentAt };
    });
    const tail = released.catch(() => undefined);
    this.releases.set(roomId, tail);
    void tail.then(() => {
      if (this.releases.get(roomId) === tail) this.releases.delete(roomId);
    });
    return released;
  }

  private publish(roomId: string, message: RoomMessageRecord): void {
    this.broadcast.publish(roomId, message, { reliableSeq: this.latestSeq.get(roomId) ?? 0, online: this.online(roomId) });
  }

  private online(roomId: string): number {
    return this.broadcast.online(roomId, this.membership.online(roomId));
  }

  private member(session: SessionInfo, roomId: string): void {
    if (!this.membership.has(session.connectionId, roomId)) throw new ProtocolError(ErrorCode.notInRoom, `not in room "${roomId}"`);
  }

  private seen(roomId: string, seq: number): void {
    if (seq > (this.latestSeq.get(roomId) ?? 0)) this.latestSeq.set(roomId, seq);
  }

  /** After a leave: the broadcast hears the new count, and an empty room's state goes. */
  private forgetIfEmpty(roomId: string): void {
    const count = this.membership.online(roomId);
    void this.broadcast.viewers(roomId, count);
    if (count === 0) this.latestSeq.delete(roomId);
  }

  private remember(key: string, acked: Promise<Ack>): void {
    this.recent.set(key, acked);
    // A failed send may be retried as new.
    acked.catch(() => this.recent.delete(key));
    if (this.recent.size > this.options.dedupEntries) this.recent.delete(this.recent.keys().next().value as string);
  }
}
