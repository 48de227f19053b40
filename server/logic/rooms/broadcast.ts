/**
 * The room broadcast port: the logic publishes each room message once, and every node's gateways
 * receive it once per batch, whatever the number of viewers. Messages published in one turn of
 * the event loop leave as one batch per room (one IPC message per gateway worker, one pub/sub
 * message per node). In one node the broadcast is this in-process implementation; nodes sharing
 * Redis use a channel per room (storage/redis/room-broadcast.ts).
 */
import type { RoomMessageRecord } from '../../../protocol/bodies.ts';
import type { RoomBroadcastBatch } from '../../seam.ts';

export type RoomSink = (batch: RoomBroadcastBatch) => void;

/** The room's state that travels with its messages. */
export interface RoomState {
  readonly reliableSeq: number;
  readonly online: number;
}

export interface RoomBroadcast {
  /** Where this node's gateways take batches. Called once, before publish. */
  attach(local: RoomSink): void;
  publish(roomId: string, message: RoomMessageRecord, state: RoomState): void;
  /**
   * This node now has `count` viewers in the room: a broadcast across nodes listens to the rooms
   * with viewers here (from 0 to 1) and stops (back to 0), and counts them for the room's total.
   * Resolves once the node hears the room (a join is answered after that, so nothing published
   * after the answer is missed).
   */
  viewers(roomId: string, count: number): Promise<void>;
  /** The room's viewers on every node, as last aggregated; `local` when nothing else is known. */
  online(roomId: string, local: number): number;
  close(): Promise<void>;
}

interface Pending {
  messages: RoomMessageRecord[];
  state: RoomState;
}

/**
 * Collects one turn's messages per room. The map holds only rooms published to in the current
 * turn and is emptied at its end.
 */
export class TurnCoalescer {
  private pending = new Map<string, Pending>();

  constructor(
    private readonly deliver: RoomSink,
    private readonly defer: (run: () => void) => void = setImmediate,
  ) {}

  add(roomId: string, message: RoomMessageRecord, state: RoomState): void {
    const pending = this.pending.get(roomId);
    if (pending) {
      pending.messages.push(message);
      pending.state = state;
      return;
    }
    if (this.pending.size === 0) this.defer(this.flush);
    this.pending.set(roomId, { messages: [message], state });
  }

  private readonly flush = (): void => {
    const pending = this.pending;
    this.pending = new Map();
    for (const [roomId, { messages, state }] of pending) this.deliver({ roomId, messages, reliableSeq: state.reliableSeq, online: state.online });
  };
}

/** One node: the batches go straight to the local gateway (or the logic host, which forwards them to every worker). */
export class LocalRoomBroadcast implements RoomBroadcast {
  private coalescer: TurnCoalescer | undefined;

  attach(local: RoomSink): void {
    this.coalescer = new TurnCoalescer(local);
  }

  publish(roomId: string, message: RoomMessageRecord, state: RoomState): void {
    this.coalescer?.add(roomId, message, state);
  }

  viewers(): Promise<void> {
    return Promise.resolve();
  }

  online(_roomId: string, local: number): number {
    return local;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
