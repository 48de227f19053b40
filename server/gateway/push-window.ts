/**
 * The downstream ACK window of one connection. Every push gets the next SID; at most `window`
 * pushes are in flight, the rest wait in a bounded queue. An unacknowledged push is resent with
 * the same SID after a timeout that doubles per retry; after `maxRetries` the connection is
 * declared dead. ACKs are cumulative: acking SID n acknowledges every SID up to n. The window
 * holds payloads as they are (the connection keeps encoded bytes), so a retransmit re-sends them unchanged.
 */
export interface PushWindowOptions {
  readonly window: number;
  readonly queueLimit: number;
  readonly ackTimeoutMs: number;
  readonly maxRetries: number;
}

export interface InFlight<P> {
  readonly sid: number;
  readonly payload: P;
  dueAt: number;
  retries: number;
}

export type AckResult<P> = { readonly ok: true; readonly released: InFlight<P>[] } | { readonly ok: false };

export class PushWindow<P> {
  private nextSid = 1;
  private readonly inFlight: InFlight<P>[] = [];
  private readonly waiting: P[] = [];
  private waitingHead = 0;

  constructor(private readonly options: PushWindowOptions) {}

  get inFlightCount(): number {
    return this.inFlight.length;
  }

  get queuedCount(): number {
    return this.waiting.length - this.waitingHead;
  }

  get lastSid(): number {
    return this.nextSid - 1;
  }

  /**
   * Admits an entry: returns it with its SID when the window has room (send it now), 'queued' when
   * it must wait for ACKs, or 'overflow' when the slow-consumer bound is reached.
   */
  offer(payload: P, now: number): InFlight<P> | 'queued' | 'overflow' {
    if (this.inFlight.length < this.options.window && this.queuedCount === 0) return this.launch(payload, now);
    if (this.queuedCount >= this.options.queueLimit) return 'overflow';
    this.waiting.push(payload);
    return 'queued';
  }

  /** Moves queued entries into the window while there is room; returns them with their new SIDs. */
  take(now: number): InFlight<P>[] {
    const out: InFlight<P>[] = [];
    while (this.inFlight.length < this.options.window && this.waitingHead < this.waiting.length) {
      out.push(this.launch(this.waiting[this.waitingHead++] as P, now));
    }
    if (this.waitingHead === this.waiting.length) {
      this.waiting.length = 0;
      this.waitingHead = 0;
    }
    return out;
  }

  /** Gives an entry the next SID and puts it in flight. */
  private launch(payload: P, now: number): InFlight<P> {
    const pushed: InFlight<P> = { sid: this.nextSid++, payload, dueAt: now + this.options.ackTimeoutMs, retries: 0 };
    this.inFlight.push(pushed);
    return pushed;
  }

  /** Cumulative ACK. Fails for a SID that was never sent. */
  ack(upTo: number): AckResult<P> {
    if (upTo >= this.nextSid) return { ok: false };
    let n = 0;
    while (n < this.inFlight.length && (this.inFlight[n] as InFlight<P>).sid <= upTo) n++;
    return { ok: true, released: this.inFlight.splice(0, n) };
  }

  /** The pushes whose ACK is overdue, with their deadlines pushed back; 'dead' when one ran out of retries. */
  overdue(now: number): InFlight<P>[] | 'dead' {
    const out: InFlight<P>[] = [];
    for (const pushed of this.inFlight) {
      if (pushed.dueAt > now) continue;
      if (pushed.retries >= this.options.maxRetries) return 'dead';
      pushed.retries++;
      pushed.dueAt = now + this.options.ackTimeoutMs * 2 ** pushed.retries;
      out.push(pushed);
    }
    return out;
  }

  /** The earliest retransmission deadline, if anything is in flight. */
  nextDue(): number | undefined {
    let due: number | undefined;
    for (const pushed of this.inFlight) if (due === undefined || pushed.dueAt < due) due = pushed.dueAt;
    return due;
  }
}
