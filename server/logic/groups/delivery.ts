/**
 * Getting a group's timeline entries to its members' online devices. A read-diffused entry is one
 * payload with version 0 for every member (one encode, one gateway call); a write-diffused one
 * carries each member's own inbox version, so it is encoded per member (the cost that makes
 * write diffusion worth it only for small groups). Entries of one group leave in seq order.
 */
import { EntryType, type MessageRecord } from '../../../protocol/bodies.ts';
import { PushPayload } from '../../push-payload.ts';
import type { InboxPosition } from '../../../storage/ports.ts';
import type { SessionInfo } from '../../seam.ts';
import { OrderedRelease } from '../ordered-release.ts';
import type { Routing } from '../../routing/port.ts';

export interface Delivery {
  readonly message: MessageRecord;
  /** Who receives it: the members at the time of the entry (plus a removed member, told of it). */
  readonly recipients: readonly string[];
  /** Write-diffused: each recipient's inbox position. */
  readonly versions?: ReadonlyMap<string, InboxPosition>;
}

export class GroupDelivery {
  private readonly releases = new OrderedRelease();
  /** Entries pushed, for tests that count work per message. */
  pushed = 0;

  constructor(private readonly routing: () => Routing) {}

  /** Waits for the commit, then delivers after the group's earlier commits, skipping the acting device. */
  inOrder<T>(groupId: string, committing: Promise<T>, actor: SessionInfo | undefined, delivery: (committed: T) => Delivery | undefined): Promise<T> {
    return this.releases.run(groupId, committing, (committed) => {
      const what = delivery(committed);
      if (what) this.deliver(what, actor);
    });
  }

  private deliver({ message, recipients, versions }: Delivery, actor: SessionInfo | undefined): void {
    this.pushed++;
    const entry = { type: EntryType.message, conversationId: message.conversationId, seq: message.seq, message };
    const except = actor && { userId: actor.userId, deviceId: actor.deviceId };
    const routing = this.routing();
    if (!versions || versions.size === 0) {
      routing.pushToUsers(recipients, PushPayload.of({ ...entry, version: 0 }), except);
      return;
    }
    for (const userId of recipients) {
      const position = versions.get(userId);
      const push = position ? { ...entry, version: position.version, epoch: position.epoch } : { ...entry, version: 0 };
      routing.push(userId, PushPayload.of(push), userId === except?.userId ? except.deviceId : undefined);
    }
  }
}
