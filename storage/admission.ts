/**
 * A bound on work in flight with a FIFO of waiters: `enter()` resolves at once below the bound
 * and in call order once earlier work leaves; `leave()` hands the slot straight to the next
 * waiter. A ring of resolvers with a head index, so admitting is O(1) (no array shift).
 */
export class Admission {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private head = 0;

  constructor(
    private readonly maxInFlight: number,
    /** Waiters beyond this are refused (`enter()` answers false); Infinity queues everything. */
    private readonly maxWaiting = Number.POSITIVE_INFINITY,
  ) {}

  /** True when nothing waits and a slot is free now. */
  get free(): boolean {
    return this.running < this.maxInFlight && this.head === this.waiting.length;
  }

  /** Resolves true once admitted, or false at once when the queue is full. */
  enter(): Promise<boolean> {
    if (this.free) {
      this.running++;
      return Promise.resolve(true);
    }
    if (this.waiting.length - this.head >= this.maxWaiting) return Promise.resolve(false);
    return new Promise((admit) => this.waiting.push(() => admit(true)));
  }

  /** Takes a slot now (the caller checked `free`). */
  take(): void {
    this.running++;
  }

  leave(): void {
    if (this.head < this.waiting.length) {
      const next = this.waiting[this.head++] as () => void;
      if (this.head === this.waiting.length) {
        this.waiting.length = 0;
        this.head = 0;
      }
      next();
      return;
    }
    this.running--;
  }
}
