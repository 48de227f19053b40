/**
 * Live rooms in the SDK (SPEC §19): joins (again after every reconnect), room messages from the
 * batches, the dropped counts the server reports, and the reliable sequence of each room: a
 * reliable message is released once, in seq order; a gap (a seq ahead of what was seen, or a
 * batch whose reliableSeq is) is filled with roomPull before later reliable ones are released.
 */
import type { BodyOf, RoomMessageRecord } from '../protocol/bodies.ts';

export interface RoomRequests {
  join(roomId: string): Promise<BodyOf<'roomJoined'>>;
  pull(roomId: string, afterSeq: number): Promise<BodyOf<'roomPage'>>;
}

export interface RoomEvents {
  message(roomId: string, message: RoomMessageRecord): void;
  dropped(roomId: string, count: number): void;
}

interface RoomState {
  /** False once the server took this connection out of the room: no batches come until a join. */
  active: boolean;
  /** Every reliable message up to this seq was released. */
  have: number;
  /** Reliable messages above a gap, waiting for it to be filled (bounded by what one pull returns). */
  readonly waiting: Map<number, RoomMessageRecord>;
  pulling: Promise<void> | undefined;
}

/** At most this many reliable messages wait above a gap; beyond it they are pulled again later. */
const MAX_WAITING = 1_000;

export class ClientRooms {
  private readonly rooms = new Map<string, RoomState>();

  constructor(
    private readonly requests: RoomRequests,
    private readonly events: RoomEvents,
  ) {}

  get joined(): string[] {
    return [...this.rooms].filter(([, room]) => room.active).map(([roomId]) => roomId);
  }

  async join(roomId: string): Promise<BodyOf<'roomJoined'>> {
    const joined = await this.requests.join(roomId);
    const known = this.rooms.get(roomId);
    // A first join starts at the room's current seq; a rejoin keeps what it had and pulls the rest.
    if (!known) this.rooms.set(roomId, { active: true, have: joined.reliableSeq, waiting: new Map(), pulling: undefined });
    else {
      known.active = true;
      this.fill(roomId, known, joined.reliableSeq);
    }
    return joined;
  }

  /** Left on purpose: the room's state goes. */
  forget(roomId: string): void {
    this.rooms.delete(roomId);
  }

  /** Taken out by the server: what was seen is kept, so a later join pulls only the rest. */
  suspend(roomId: string): void {
    const room = this.rooms.get(roomId);
    if (room) room.active = false;
  }

  /** After a reconnect: joins every room again, pulling what was missed. */
  async rejoin(): Promise<void> {
    await Promise.all(this.joined.map((roomId) => this.join(roomId).catch(() => undefined)));
  }

  onBatch(dropped: number, batch: BodyOf<'roomPush'>): void {
    if (dropped > 0) this.events.dropped(batch.roomId, dropped);
    const room = this.rooms.get(batch.roomId);
    if (!room?.active) return;
    for (const message of batch.messages) {
      if (message.seq === 0) this.events.message(batch.roomId, message);
      else this.reliable(batch.roomId, room, message);
    }
    this.fill(batch.roomId, room, batch.reliableSeq);
  }

  private reliable(roomId: string, room: RoomState, message: RoomMessageRecord): void {
    if (message.seq <= room.have) return;
    if (message.seq === room.have + 1 && !room.pulling) {
      room.have = message.seq;
      this.events.message(roomId, message);
      this.releaseWaiting(roomId, room);
      return;
    }
    if (room.waiting.size < MAX_WAITING) room.waiting.set(message.seq, message);
    this.fill(roomId, room, message.seq);
  }

  private releaseWaiting(roomId: string, room: RoomState): void {
    for (let next = room.waiting.get(room.have + 1); next; next = room.waiting.get(room.have + 1)) {
      room.waiting.delete(next.seq);
      room.have = next.seq;
      this.events.message(roomId, next);
    }
    for (const seq of room.waiting.keys()) if (seq <= room.have) room.waiting.delete(seq);
  }

  /** Pulls until `have` reaches `latest` (or the server says nothing more is kept). */
  private fill(roomId: string, room: RoomState, latest: number): void {
    if (latest <= room.have || room.pulling) return;
    room.pulling = (async () => {
      try {
        for (let pages = 0; pages < 100 && room.have < latest && this.rooms.get(roomId) === room; pages++) {
          const page = await this.requests.pull(roomId, room.have);
          // Messages older than the log keeps are gone: continue from the oldest kept.
          if (page.oldestSeq > room.have + 1) room.have = page.oldestSeq - 1;
          for (const message of page.messages) room.waiting.set(message.seq, message);
          this.releaseWaiting(roomId, room);
          if (!page.hasMore) break;
        }
      } catch {
        // Not in the room any more, or disconnected: the next join pulls again.
      } finally {
        room.pulling = undefined;
      }
      this.releaseWaiting(roomId, room);
    })();
  }
}
