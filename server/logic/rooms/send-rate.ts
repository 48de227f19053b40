/**
 * Room messages per sender connection in fixed one-second windows (the window restarts with the
 * first send at least a second after it began). Over the limit a send is refused with 4103 and
 * not published. Entries are dropped with their connection, so the map is bounded by connections.
 */
import type { ConnectionId } from '../../seam.ts';

interface Window {
  start: number;
  count: number;
}

export class SendRate {
  private readonly windows = new Map<ConnectionId, Window>();

  constructor(private readonly perSecond: number) {}

  /** True when the send is within the limit (and counts it). */
  allow(connectionId: ConnectionId, now: number): boolean {
    let window = this.windows.get(connectionId);
    if (!window || now - window.start >= 1000) {
      window = { start: now, count: 0 };
      this.windows.set(connectionId, window);
    }
    return ++window.count <= this.perSecond;
  }

  forget(connectionId: ConnectionId): void {
    this.windows.delete(connectionId);
  }
}
