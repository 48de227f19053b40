/**
 * Per-user send quota: messages and content bytes in a fixed window, counted over all of a
 * user's devices and connections (the per-connection frame rate does not stop a user with four
 * sessions, or one that reconnects). A send beyond either is refused with 3007 quotaExceeded and
 * stores nothing; the window restarts with the first send at least `windowMs` after its start.
 */
import { ErrorCode, ProtocolError } from '../../protocol/errors.ts';
import type { Clock } from './clock.ts';

export interface SendQuotaPolicy {
  readonly windowMs: number;
  readonly messages: number;
  /** UTF-8 bytes of content. */
  readonly bytes: number;
  /** Users tracked; beyond it the one whose window started first is forgotten (policy: evict oldest, which resets its count). */
  readonly maxUsers: number;
}

/** 100 messages/s and 1.6 MB/s sustained per user: far above a person, far below a flood. */
export const DEFAULT_SEND_QUOTA: SendQuotaPolicy = { windowMs: 10_000, messages: 1_000, bytes: 16 * 1024 * 1024, maxUsers: 100_000 };

interface Window {
  readonly start: number;
  messages: number;
  bytes: number;
}

export class SendQuota {
  /** In order of window start (re-inserted when a window restarts), so the first is the oldest. */
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly clock: Clock,
    private readonly policy: SendQuotaPolicy = DEFAULT_SEND_QUOTA,
  ) {}

  /** Charges one message of `bytes` to the user, or throws 3007 when it would exceed the window's quota. */
  charge(userId: string, bytes: number): void {
    const now = this.clock.now();
    let window = this.windows.get(userId);
    if (!window || now - window.start >= this.policy.windowMs) {
      window = { start: now, messages: 0, bytes: 0 };
      this.windows.delete(userId);
      this.windows.set(userId, window);
      this.evict(now);
    }
    if (window.messages + 1 > this.policy.messages || window.bytes + bytes > this.policy.bytes) {
      const wait = window.start + this.policy.windowMs - now;
      throw new ProtocolError(ErrorCode.quotaExceeded, `send quota of ${this.policy.messages} messages and ${this.policy.bytes} bytes per ${this.policy.windowMs} ms used; retry in ${wait} ms`);
    }
    window.messages++;
    window.bytes += bytes;
  }

  get trackedUsers(): number {
    return this.windows.size;
  }

  private evict(now: number): void {
    // Expired windows first (they are the oldest), then the oldest live one when still too many.
    for (const [userId, window] of this.windows) {
      if (this.windows.size <= this.policy.maxUsers && now - window.start < this.policy.windowMs) break;
      this.windows.delete(userId);
    }
  }
}
