/**
 * This gateway's live rooms: room → its local viewers, and per room the messages waiting for the
 * next batch. A batch is flushed at `batchMessages` messages or `batchMs` after its first one,
 * whichever comes first, encoded once and written to every local viewer (fanout.ts). Rooms
 * without a viewer here are not kept, and their broadcasts cost nothing but the lookup.
 */
import type { EncodeOptions } from '../../../codec/index.ts';
import { MAX_ROOM_BATCH, RoomLeftReason, type BodyOf, type RoomMessageRecord } from '../../../protocol/bodies.ts';
import type { Clock } from '../../logic/clock.ts';
import type { ConnectionId, RoomBroadcastBatch } from '../../seam.ts';
import { batchedFanout, type RoomFanout } from './fanout.ts';
import { ViewerState, type RoomDeliveryStats, type RoomViewer, type ViewerLimits } from './viewer.ts';

export interface LocalRoomsConfig extends ViewerLimits, EncodeOptions {
  readonly batchMessages: number;
  readonly batchMs: number;
}

/** Runs `run` after `ms`; returns a cancel. Injected so that tests can drive batching. */
export type Schedule = (ms: number, run: () => void) => () => void;

export const timerSchedule: Schedule = (ms, run) => {
  const timer = setTimeout(run, ms);
  return () => clearTimeout(timer);
};

class LocalRoom {
  readonly viewers = new Map<ConnectionId, ViewerState>();
  pending: RoomMessageRecord[] = [];
  reliableSeq = 0;
  online = 0;
  cancel: (() => void) | undefined;

  constructor(readonly roomId: string) {}
}

export class LocalRooms {
  private readonly rooms = new Map<string, LocalRoom>();
  private readonly byConnection = new Map<ConnectionId, Set<string>>();

  constructor(
    private readonly config: LocalRoomsConfig,
    private readonly clock: Clock,
    readonly stats: RoomDeliveryStats,
    /** A viewer was taken out of a room by the drop policy (the logic is told through the seam). */
    private readonly onRemoved: (connectionId: ConnectionId, roomId: string) => void,
    private readonly schedule: Schedule = timerSchedule,
    private readonly fanout: RoomFanout = batchedFanout,
  ) {}

  join(viewer: RoomViewer, roomId: string): void {
    let room = this.rooms.get(roomId);
    if (!room) {
      room = new LocalRoom(roomId);
      this.rooms.set(roomId, room);
    }
    if (room.viewers.has(viewer.id)) return;
    room.viewers.set(viewer.id, new ViewerState(viewer));
    let joined = this.byConnection.get(viewer.id);
    if (!joined) {
      joined = new Set();
      this.byConnection.set(viewer.id, joined);
    }
    joined.add(roomId);
  }

  leave(connectionId: ConnectionId, roomId: string): void {
    const room = this.rooms.get(roomId);
    if (!room?.viewers.delete(connectionId)) return;
    const joined = this.byConnection.get(connectionId);
    joined?.delete(roomId);
    if (joined?.size === 0) this.byConnection.delete(connectionId);
    if (room.viewers.size === 0) {
      room.cancel?.();
      this.rooms.delete(roomId);
    }
  }

  /** The connection closed: it leaves every room it was in. */
  dropConnection(connectionId: ConnectionId): void {
    for (const roomId of [...(this.byConnection.get(connectionId) ?? [])]) this.leave(connectionId, roomId);
  }

  viewers(roomId: string): number {
    return this.rooms.get(roomId)?.viewers.size ?? 0;
  }

  publish(batch: RoomBroadcastBatch): void {
    const room = this.rooms.get(batch.roomId);
    if (!room) return;
    for (const message of batch.messages) room.pending.push(message);
    room.reliableSeq = Math.max(room.reliableSeq, batch.reliableSeq);
    room.online = batch.online;
    if (room.pending.length >= this.config.batchMessages) this.flush(room);
    else room.cancel ??= this.schedule(this.config.batchMs, () => this.flush(room));
  }

  private flush(room: LocalRoom): void {
    room.cancel?.();
    room.cancel = undefined;
    const messages = room.pending;
    room.pending = [];
    const size = Math.min(this.config.batchMessages, MAX_ROOM_BATCH);
    const now = this.clock.now();
    const removed = new Set<ConnectionId>();
    for (let i = 0; i < messages.length; i += size) {
      const slice = messages.slice(i, i + size);
      const body: BodyOf<'roomPush'> = { roomId: room.roomId, reliableSeq: room.reliableSeq, online: room.online, messages: slice };
      for (const id of this.fanout(room.viewers.values(), body, now, this.config, this.stats)) removed.add(id);
    }
    for (const connectionId of removed) this.remove(room, connectionId);
  }

  private remove(room: LocalRoom, connectionId: ConnectionId): void {
    const state = room.viewers.get(connectionId);
    if (!state) return;
    this.stats.removed++;
    state.viewer.roomLeft({ roomId: room.roomId, reason: RoomLeftReason.slowViewer });
    this.leave(connectionId, room.roomId);
    this.onRemoved(connectionId, room.roomId);
  }
}
