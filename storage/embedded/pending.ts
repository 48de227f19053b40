/**
 * Writes not yet committed, by scope (a conversation's history, a user's inbox, one key). LMDB
 * reads see committed data only, so a read right after a resolved write would miss it; a read
 * waits for the latest pending write of its scope instead (LMDB commits in issue order, so that
 * one covers the earlier ones). Reads with nothing pending in their scope do not wait. An entry
 * leaves the map when its write settles, so the map holds at most the writes in flight.
 */
export class PendingWrites {
  private readonly byScope = new Map<string, Promise<unknown>>();

  add(scope: string, write: Promise<unknown>): void {
    this.byScope.set(scope, write);
    const forget = (): void => {
      if (this.byScope.get(scope) === write) this.byScope.delete(scope);
    };
    write.then(forget, forget);
  }

  /** Resolves once the scope's pending writes are committed or failed; a failed write shows as absent data. */
  async settled(scope: string): Promise<void> {
    const write = this.byScope.get(scope);
    if (write) await write.then(
      () => undefined,
      () => undefined,
    );
  }
}
