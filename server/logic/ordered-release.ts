/**
 * Releases the results of commits in the order the commits were issued, per key (a conversation,
 * a group). A commit's fan-out runs after that of the commit before it on the same key, so every
 * connection receives a conversation in seq order even when commits settle out of order. Keys
 * leave the map when idle, so it holds only keys with commits in flight.
 */
export class OrderedRelease {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `release` on the commit's result once the key's previous commit was released. */
  run<T>(key: string, committing: Promise<T>, release: (committed: T) => void): Promise<T> {
    const previous = this.tails.get(key);
    const released = previous ? previous.then(() => committing) : committing;
    const result = released.then((committed) => {
      release(committed);
      return committed;
    });
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
