/**
 * Backoff after failed password logins. Each key may fail a few times freely; after that every
 * failure locks it for twice as long as the one before (up to a cap), and a login for a locked
 * key is refused before any scrypt runs. Three keys: an account from one address (a guesser gets
 * a handful of tries per account per quarter hour, and the account's owner elsewhere is not
 * locked out by them), an address whatever the accounts (one host guessing many users), and an
 * account whatever the addresses, with a higher threshold (guessing spread over many hosts; the
 * price is that such an attack can lock the account's password logins, at most 15 min at a time,
 * while its devices' token logins keep working).
 */
import type { Clock } from './clock.ts';

export interface BackoffPolicy {
  /** The failure that starts the first lockout (the ones before it cost nothing but their scrypt). */
  readonly free: number;
  /** The first lockout; each further failure doubles it. */
  readonly baseMs: number;
  readonly maxMs: number;
  /** A key with no failure for this long starts over. */
  readonly forgetMs: number;
  /** Keys tracked; beyond it the least recently failed is forgotten (policy: evict oldest). */
  readonly maxKeys: number;
}

export interface ThrottlePolicy {
  /** One account from one address. */
  readonly accountAddress: BackoffPolicy;
  /** An address may be a NAT in front of many users, so it gets more free failures. */
  readonly address: BackoffPolicy;
  /** One account from anywhere. */
  readonly account: BackoffPolicy;
}

const backoff = (free: number): BackoffPolicy => ({ free, baseMs: 1_000, maxMs: 15 * 60_000, forgetMs: 15 * 60_000, maxKeys: 100_000 });

export const DEFAULT_THROTTLE: ThrottlePolicy = { accountAddress: backoff(5), address: backoff(20), account: backoff(50) };

interface Failures {
  count: number;
  last: number;
  lockedUntil: number;
}

class Backoff {
  /** In order of last failure (re-inserted on each), so the first key is the one to evict. */
  private readonly keys = new Map<string, Failures>();

  constructor(private readonly policy: BackoffPolicy) {}

  /** Milliseconds until `key` may try again; 0 when it may now. */
  wait(key: string, now: number): number {
    const entry = this.current(key, now);
    return entry ? Math.max(0, entry.lockedUntil - now) : 0;
  }

  fail(key: string, now: number): void {
    const { maxKeys } = this.policy;
    const entry = this.current(key, now) ?? { count: 0, last: now, lockedUntil: 0 };
    entry.count++;
    entry.last = now;
    this.lock(entry);
    this.keys.delete(key);
    this.keys.set(key, entry);
    if (this.keys.size > maxKeys) {
      const oldest = this.keys.keys().next().value;
      if (oldest !== undefined) this.keys.delete(oldest);
    }
  }

  forget(key: string): void {
    this.keys.delete(key);
  }

  /** Takes back one failure counted in advance for an attempt that succeeded. */
  undo(key: string): void {
    const entry = this.keys.get(key);
    if (!entry) return;
    entry.count = Math.max(0, entry.count - 1);
    this.lock(entry);
  }

  private lock(entry: Failures): void {
    const { free, baseMs, maxMs } = this.policy;
    entry.lockedUntil = entry.count >= free ? entry.last + Math.min(maxMs, baseMs * 2 ** Math.min(30, entry.count - free)) : 0;
  }

  private current(key: string, now: number): Failures | undefined {
    const entry = this.keys.get(key);
    if (entry && now - entry.last >= this.policy.forgetMs && now >= entry.lockedUntil) {
      this.keys.delete(key);
      return undefined;
    }
    return entry;
  }
}

/** "1.2.3.4:5678" or "::1:5678" → the address without the port. */
export function addressOf(remoteAddress: string): string {
  const colon = remoteAddress.lastIndexOf(':');
  return colon > 0 ? remoteAddress.slice(0, colon) : remoteAddress;
}

export class LoginThrottle {
  private readonly pairs: Backoff;
  private readonly addresses: Backoff;
  private readonly accounts: Backoff;

  constructor(
    private readonly clock: Clock,
    policy: ThrottlePolicy = DEFAULT_THROTTLE,
  ) {
    this.pairs = new Backoff(policy.accountAddress);
    this.addresses = new Backoff(policy.address);
    this.accounts = new Backoff(policy.account);
  }

  /**
   * Milliseconds the login must wait (the longest lockout of its three keys), or 0 when it may
   * go ahead, in which case it counts as a failure until `succeeded`: attempts in flight count,
   * so 24 guesses sent at once get no more password checks than 24 sent one after another.
   */
  attempt(userId: string, address: string): number {
    const now = this.clock.now();
    const pair = pairKey(userId, address);
    const wait = Math.max(this.pairs.wait(pair, now), this.addresses.wait(address, now), this.accounts.wait(userId, now));
    if (wait > 0) return wait;
    this.pairs.fail(pair, now);
    this.addresses.fail(address, now);
    this.accounts.fail(userId, now);
    return 0;
  }

  /** The attempt ended before its password was checked (e.g. 5002): it takes back its failures. */
  cancelled(userId: string, address: string): void {
    this.pairs.undo(pairKey(userId, address));
    this.addresses.undo(address);
    this.accounts.undo(userId);
  }

  /** A correct password clears the account's failures from this address and from anywhere, and takes back its own from the address's. */
  succeeded(userId: string, address: string): void {
    this.pairs.forget(pairKey(userId, address));
    this.accounts.forget(userId);
    this.addresses.undo(address);
  }
}

const pairKey = (userId: string, address: string) => `${userId}\u0000${address}`;
