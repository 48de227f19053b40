/** Frames per one-second window on one connection: over the limit is throttled, over twice it is abuse. */
export type RateVerdict = 'ok' | 'throttle' | 'abuse';

export class FrameRate {
  private windowStart = 0;
  private count = 0;

  constructor(private readonly perSecond: number) {}

  hit(now: number): RateVerdict {
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.count = 0;
    }
    this.count++;
    if (this.count <= this.perSecond) return 'ok';
    return this.count <= 2 * this.perSecond ? 'throttle' : 'abuse';
  }
}
