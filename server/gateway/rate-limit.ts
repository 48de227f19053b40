/**
 * Frames and body bytes per one-second window on one connection (a fixed window that restarts
 * with the first frame at least a second after the window began). Over either limit a frame is
 * throttled (answered 1009, not processed); over twice either limit the connection is abuse and is
 * closed. Body bytes are the decompressed size announced in the header (or the body length when
 * uncompressed), so a compressed frame is charged for what it would expand to.
 */
export type RateVerdict = 'ok' | 'throttle' | 'abuse';

export class FrameRate {
  private windowStart = 0;
  private count = 0;
  private bytes = 0;

  constructor(
    private readonly perSecond: number,
    private readonly bytesPerSecond = Infinity,
  ) {}

  hit(now: number, bodyBytes = 0): RateVerdict {
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.count = 0;
      this.bytes = 0;
    }
    this.count++;
    this.bytes += bodyBytes;
    if (this.count <= this.perSecond && this.bytes <= this.bytesPerSecond) return 'ok';
    return this.count <= 2 * this.perSecond && this.bytes <= 2 * this.bytesPerSecond ? 'throttle' : 'abuse';
  }
}
