/**
 * Users known to exist, so that a message to a frequent receiver costs no account read. Accounts
 * are never deleted, so a positive answer stays true; unknown ids are not cached (a later
 * registration must be seen). Bounded: past `capacity` the least recently confirmed is dropped
 * and read again when it is next needed.
 */
import type { AccountStore } from '../../storage/ports.ts';

export const DEFAULT_KNOWN_USERS = 100_000;

export class KnownUsers {
  private readonly known = new Set<string>();

  constructor(
    private readonly accounts: Pick<AccountStore, 'get'>,
    private readonly capacity = DEFAULT_KNOWN_USERS,
  ) {}

  /** True at once when cached; otherwise reads the account. */
  exists(userId: string): boolean | Promise<boolean> {
    if (this.known.has(userId)) return true;
    return this.accounts.get(userId).then((account) => {
      if (account) this.remember(userId);
      return account !== undefined;
    });
  }

  private remember(userId: string): void {
    this.known.add(userId);
    if (this.known.size > this.capacity) {
      const oldest = this.known.values().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
  }
}
