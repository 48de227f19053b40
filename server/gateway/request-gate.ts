/**
 * Back-pressure on one connection's requests. At most `maxRequests` requests, holding at most
 * `maxBytes` of bodies, are with the logic at once; a request beyond either waits here, in
 * arrival order, and the socket stops being read until the work in flight is down to half of
 * both bounds. Frames already read (a chunk holds many small ones) wait here rather than reach
 * the logic, so the bounds hold however the bytes were split into reads.
 */
export interface GateLimits {
  readonly maxRequests: number;
  readonly maxBytes: number;
}

export interface Reading {
  pause(): void;
  resume(): void;
}

interface Waiting {
  readonly bytes: number;
  readonly start: () => Promise<unknown>;
}

export class RequestGate {
  private requests = 0;
  private bytes = 0;
  private paused = false;
  private readonly waiting: Waiting[] = [];
  private head = 0;
  private closed = false;

  constructor(
    private readonly limits: GateLimits,
    private readonly reading: Reading,
  ) {}

  /** Starts the request now if the bounds allow and nothing waits, else queues it. */
  run(bytes: number, start: () => Promise<unknown>): void {
    if (this.head < this.waiting.length || !this.fits()) {
      this.waiting.push({ bytes, start });
      this.pause();
      return;
    }
    this.start({ bytes, start });
  }

  /** Requests started and not yet settled, and those waiting, for tests and metrics. */
  get inFlight(): { readonly requests: number; readonly bytes: number; readonly waiting: number } {
    return { requests: this.requests, bytes: this.bytes, waiting: this.waiting.length - this.head };
  }

  /** The connection is gone: nothing waiting is started, and the socket is left alone. */
  close(): void {
    this.closed = true;
    this.waiting.length = 0;
    this.head = 0;
  }

  private fits(): boolean {
    return this.requests < this.limits.maxRequests && this.bytes < this.limits.maxBytes;
  }

  private start(request: Waiting): void {
    this.requests++;
    this.bytes += request.bytes;
    if (!this.fits()) this.pause();
    const settled = () => this.settled(request.bytes);
    request.start().then(settled, settled);
  }

  private settled(bytes: number): void {
    this.requests--;
    this.bytes -= bytes;
    if (this.closed) return;
    while (this.head < this.waiting.length && this.fits()) {
      const next = this.waiting[this.head++] as Waiting;
      if (this.head === this.waiting.length) {
        this.waiting.length = 0;
        this.head = 0;
      }
      this.start(next);
    }
    if (this.paused && this.head === this.waiting.length && this.requests <= this.limits.maxRequests / 2 && this.bytes <= this.limits.maxBytes / 2) {
      this.paused = false;
      this.reading.resume();
    }
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.reading.pause();
  }
}
