/**
 * Messages to one peer process queued during a turn of the event loop and sent as one IPC
 * message when the turn ends: one serialization and one pipe write per turn instead of one per
 * push or reply.
 */
export class TurnBatch<M> {
  private queued: M[] = [];

  constructor(private readonly send: (messages: M[]) => void) {}

  add(message: M): void {
    this.queued.push(message);
    if (this.queued.length === 1) setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    const messages = this.queued;
    this.queued = [];
    if (messages.length > 0) this.send(messages);
  };
}
