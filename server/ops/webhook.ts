/**
 * The webhook: when a message arrives for a user with no online device, a JSON event is POSTed to
 * the deployment's endpoint (the hook it connects to APNs/FCM), and, when the deployment asks
 * for them, one event per message stored (after-send); signed with HMAC-SHA256, retried with
 * exponential backoff, from one bounded queue.
 *
 * Signature: `x-tern-signature: sha256=<hex HMAC(secret, "<x-tern-timestamp>.<body>")>`; the
 * receiver recomputes it and refuses old timestamps, so a captured request cannot be replayed.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Clock } from '../logic/clock.ts';
import type { MessageRecord } from '../../protocol/bodies.ts';
import type { OfflineMessage } from '../logic/logic.ts';

export interface WebhookOptions {
  readonly url: string;
  readonly secret: string;
  /**
   * Events held at once: waiting, in flight or waiting for a retry. Policy at the limit: drop the
   * oldest waiting one (a stale notification is worth least), or the new one when none waits; counted.
   */
  readonly maxQueue: number;
  /** Attempts per event, the first included; then the event is dropped, counted as failed. */
  readonly maxAttempts: number;
  /** Wait before the second attempt; doubles per attempt up to maxBackoffMs. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  readonly timeoutMs: number;
  /** Requests in flight at once. */
  readonly concurrency: number;
  readonly clock: Clock;
  readonly onError: (error: unknown) => void;
  /** Runs `run` after `ms` and returns a cancel function; real timers unless a test drives them. */
  readonly schedule?: (run: () => void, ms: number) => () => void;
}

function realTimer(run: () => void, ms: number): () => void {
  const timer = setTimeout(run, ms);
  timer.unref();
  return () => clearTimeout(timer);
}

export const defaultWebhookOptions = { maxQueue: 10_000, maxAttempts: 5, backoffMs: 1_000, maxBackoffMs: 30_000, timeoutMs: 5_000, concurrency: 4 } as const;

/** Characters of the message content in the event: enough for a notification's preview. */
const PREVIEW_CHARS = 200;

export interface WebhookStats {
  enqueued: number;
  delivered: number;
  retries: number;
  failed: number;
  dropped: number;
}

interface Pending {
  readonly id: string;
  readonly body: string;
  attempts: number;
}

export function sign(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class Webhook {
  readonly stats: WebhookStats = { enqueued: 0, delivered: 0, retries: 0, failed: 0, dropped: 0 };
  private readonly queue: Pending[] = [];
  private head = 0;
  private inFlight = 0;
  private held = 0;
  private readonly timers = new Set<() => void>();
  private closed = false;

  constructor(private readonly options: WebhookOptions) {}

  /** Events waiting (not in flight, not waiting for a retry). */
  get queued(): number {
    return this.queue.length - this.head;
  }

  offlineMessage(event: OfflineMessage): void {
    const { message } = event;
    const body = JSON.stringify({
      type: 'offlineMessage',
      userId: event.userId,
      message: { messageId: message.messageId, conversationId: message.conversationId, seq: message.seq, from: message.from, kind: message.kind, sentAt: message.sentAt, preview: message.content.slice(0, PREVIEW_CHARS) },
    });
    this.enqueue({ id: randomBytes(8).toString('hex'), body, attempts: 0 });
  }

  /** The after-send event of a message just stored (1:1 or group post), with the same preview. */
  messageSent(message: MessageRecord): void {
    const body = JSON.stringify({
      type: 'messageSent',
      message: { messageId: message.messageId, conversationId: message.conversationId, seq: message.seq, from: message.from, to: message.to, kind: message.kind, sentAt: message.sentAt, preview: message.content.slice(0, PREVIEW_CHARS) },
    });
    this.enqueue({ id: randomBytes(8).toString('hex'), body, attempts: 0 });
  }

  /** Stops retrying and sending; events still queued are dropped. */
  close(): void {
    this.closed = true;
    for (const cancel of this.timers) cancel();
    this.timers.clear();
  }

  private enqueue(pending: Pending): void {
    if (this.closed) return;
    this.stats.enqueued++;
    if (this.held >= this.options.maxQueue) {
      this.stats.dropped++;
      if (this.queued === 0) return;
      this.head++;
      this.held--;
    }
    this.held++;
    this.queue.push(pending);
    this.pump();
  }

  private pump(): void {
    while (!this.closed && this.inFlight < this.options.concurrency && this.head < this.queue.length) {
      const next = this.queue[this.head++] as Pending;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.inFlight++;
      void this.attempt(next).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async attempt(pending: Pending): Promise<void> {
    pending.attempts++;
    const timestamp = String(this.options.clock.now());
    let retry: boolean;
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-tern-delivery': pending.id, 'x-tern-timestamp': timestamp, 'x-tern-signature': sign(this.options.secret, timestamp, pending.body) },
        body: pending.body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await response.arrayBuffer();
      if (response.ok) {
        this.stats.delivered++;
        this.held--;
        return;
      }
      // A 4xx other than 408 and 429 says the event itself is refused: sending it again will not help.
      retry = response.status >= 500 || response.status === 408 || response.status === 429;
    } catch (error) {
      retry = true;
      if (pending.attempts === this.options.maxAttempts) this.options.onError(error);
    }
    if (!retry || pending.attempts >= this.options.maxAttempts) {
      this.stats.failed++;
      this.held--;
      return;
    }
    this.stats.retries++;
    const wait = Math.min(this.options.maxBackoffMs, this.options.backoffMs * 2 ** (pending.attempts - 1));
    const cancel = (this.options.schedule ?? realTimer)(() => {
      this.timers.delete(cancel);
      if (this.closed) return;
      this.queue.push(pending);
      this.pump();
    }, wait);
    this.timers.add(cancel);
  }
}
