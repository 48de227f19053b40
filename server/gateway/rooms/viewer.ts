/**
 * One connection watching one room, and what a batch does to it (SPEC §19.5). A room batch is
 * not windowed: it is written at once when the viewer's socket holds less than the queue bound,
 * and its ordinary messages are dropped (and counted) when it holds more; reliable messages are
 * still written up to the hard bound. The count of dropped messages travels in the header of the
 * next batch the viewer gets. A viewer over the queue bound for `slowViewerMs`, or over the hard
 * bound at once, is taken out of the room (told with roomLeft), not disconnected.
 */
import type { BodyOf } from '../../../protocol/bodies.ts';
import type { ConnectionId } from '../../seam.ts';
import type { EncodedBatch } from './room-batch.ts';

/** What the rooms module needs of a connection. */
export interface RoomViewer {
  readonly id: ConnectionId;
  /** Output the socket holds that the kernel has not taken yet. */
  readonly outputBytes: number;
  /** Writes ready frame bytes as they are (a shared frame, or a header and a shared body). */
  writeFrameBytes(chunks: readonly Buffer[]): void;
  /** Sends a roomLeft frame. */
  roomLeft(body: BodyOf<'roomLeft'>): void;
}

export interface ViewerLimits {
  readonly queueBytes: number;
  readonly maxBytes: number;
  readonly slowViewerMs: number;
}

export interface RoomDeliveryStats {
  /** Room messages written to viewers (one per message per viewer). */
  deliveries: number;
  /** roomPush frames written. */
  frames: number;
  /** Bytes of those frames, headers included. */
  bytes: number;
  /** Ordinary messages dropped for slow viewers. */
  dropped: number;
  /** Viewers taken out of a room for being slow. */
  removed: number;
  /** Batch bodies encoded (once per batch per gateway, and once more for a reliable-only copy). */
  encodes: number;
}

export function emptyRoomStats(): RoomDeliveryStats {
  return { deliveries: 0, frames: 0, bytes: 0, dropped: 0, removed: 0, encodes: 0 };
}

export type Delivered = 'written' | 'dropped' | 'remove';

export class ViewerState {
  /** Ordinary messages missed since the last batch this viewer got. */
  dropped = 0;
  /** When the viewer went over the queue bound; undefined while under it. */
  slowSince: number | undefined;

  constructor(readonly viewer: RoomViewer) {}

  deliver(batch: EncodedBatch, now: number, limits: ViewerLimits, stats: RoomDeliveryStats): Delivered {
    const queued = this.viewer.outputBytes;
    if (queued > limits.maxBytes) return 'remove';
    if (queued <= limits.queueBytes) {
      this.slowSince = undefined;
      this.write(batch, false, stats);
      return 'written';
    }
    this.slowSince ??= now;
    if (now - this.slowSince >= limits.slowViewerMs) return 'remove';
    this.dropped += batch.ordinary;
    stats.dropped += batch.ordinary;
    if (batch.reliable > 0) this.write(batch, true, stats);
    return 'dropped';
  }

  private write(batch: EncodedBatch, reliableOnly: boolean, stats: RoomDeliveryStats): void {
    const chunks = batch.frame(this.dropped, reliableOnly, stats);
    this.dropped = 0;
    this.viewer.writeFrameBytes(chunks);
    stats.frames++;
    stats.deliveries += reliableOnly ? batch.reliable : batch.ordinary + batch.reliable;
    for (const chunk of chunks) stats.bytes += chunk.length;
  }
}
