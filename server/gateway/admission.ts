/**
 * Admission of new connections, decided at TCP accept (for TLS too, before the handshake):
 *   - at most `maxAcceptsPerSecond` accepts per second (policy: reject with 5002);
 *   - at most `maxPreLoginPerAddress` connections not yet logged in per remote address, TLS
 *     handshakes included (policy: reject with 5002, or a plain close before a TLS handshake);
 *   - at most `maxPreLogin` connections not yet logged in in total, and `maxConnections` in all:
 *     at either bound a new connection displaces the oldest one that has not started to log in
 *     (policy: displace, 5002 to the displaced one), so connections that never log in cannot
 *     lock out a client that does; only when none can be displaced is the new one rejected.
 * Logged-in sessions are never displaced.
 */
import type { GatewayConfig } from './config.ts';

/** What admission needs to know about a connection that has not logged in. */
export interface Displaceable {
  readonly displaceable: boolean;
  displace(): void;
}

export type Verdict = 'admit' | 'refuse';

export class Admission<C extends Displaceable> {
  private readonly preLogin = new Map<C | symbol, string>();
  private readonly byAddress = new Map<string, number>();
  private windowStart = 0;
  private acceptsInWindow = 0;

  constructor(private readonly config: GatewayConfig) {}

  get preLoginCount(): number {
    return this.preLogin.size;
  }

  /** Decides on a connection from `address` while `total` connections are open; may displace one. */
  decide(address: string, total: number, now: number): Verdict {
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.acceptsInWindow = 0;
    }
    if (++this.acceptsInWindow > this.config.maxAcceptsPerSecond) return 'refuse';
    if ((this.byAddress.get(address) ?? 0) >= this.config.maxPreLoginPerAddress) return 'refuse';
    if (this.preLogin.size >= this.config.maxPreLogin || total >= this.config.maxConnections) {
      if (!this.displaceOldest()) return 'refuse';
    }
    return 'admit';
  }

  /** Counts `key` (a connection, or a token for a TLS handshake in progress) as not logged in. */
  enter(key: C | symbol, address: string): void {
    if (this.preLogin.has(key)) return;
    this.preLogin.set(key, address);
    this.byAddress.set(address, (this.byAddress.get(address) ?? 0) + 1);
  }

  /** `key` logged in or closed. */
  leave(key: C | symbol): void {
    const address = this.preLogin.get(key);
    if (address === undefined) return;
    this.preLogin.delete(key);
    const left = (this.byAddress.get(address) ?? 1) - 1;
    if (left === 0) this.byAddress.delete(address);
    else this.byAddress.set(address, left);
  }

  /** Oldest first (a Map keeps insertion order); handshakes and logins in progress are skipped. */
  private displaceOldest(): boolean {
    for (const key of this.preLogin.keys()) {
      if (typeof key === 'symbol' || !key.displaceable) continue;
      this.leave(key);
      key.displace();
      return true;
    }
    return false;
  }
}
