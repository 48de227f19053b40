/**
 * Which rooms each connection is in, and how many connections each room has. Looked at on join,
 * leave and send (is the sender in the room?), never per viewer on the broadcast path: the
 * gateways keep their own room → connections maps for delivery. Bounded by the connections times
 * `roomsPerConnection`.
 */
import type { ConnectionId } from '../../seam.ts';

export type JoinOutcome = 'joined' | 'already' | 'limit';

export class RoomMembership {
  private readonly byConnection = new Map<ConnectionId, Set<string>>();
  private readonly counts = new Map<string, number>();

  constructor(private readonly roomsPerConnection: number) {}

  join(connectionId: ConnectionId, roomId: string): JoinOutcome {
    let rooms = this.byConnection.get(connectionId);
    if (rooms?.has(roomId)) return 'already';
    // Policy at the limit: reject the join (4101); the connection keeps the rooms it has.
    if (rooms && rooms.size >= this.roomsPerConnection) return 'limit';
    if (!rooms) {
      rooms = new Set();
      this.byConnection.set(connectionId, rooms);
    }
    rooms.add(roomId);
    this.counts.set(roomId, (this.counts.get(roomId) ?? 0) + 1);
    return 'joined';
  }

  /** False when the connection was not in the room. */
  leave(connectionId: ConnectionId, roomId: string): boolean {
    const rooms = this.byConnection.get(connectionId);
    if (!rooms?.delete(roomId)) return false;
    if (rooms.size === 0) this.byConnection.delete(connectionId);
    const count = (this.counts.get(roomId) ?? 1) - 1;
    if (count === 0) this.counts.delete(roomId);
    else this.counts.set(roomId, count);
    return true;
  }

  /** Takes the connection out of every room it was in; returns those rooms. */
  drop(connectionId: ConnectionId): string[] {
    const rooms = [...(this.byConnection.get(connectionId) ?? [])];
    for (const roomId of rooms) this.leave(connectionId, roomId);
    return rooms;
  }

  has(connectionId: ConnectionId, roomId: string): boolean {
    return this.byConnection.get(connectionId)?.has(roomId) ?? false;
  }

  online(roomId: string): number {
    return this.counts.get(roomId) ?? 0;
  }
}
