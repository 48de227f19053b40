/**
 * One behaviour suite for every implementation of the storage ports (storage/ports.ts). An
 * implementation's spec calls `describeStoreConformance` with a factory; every test opens its own
 * store from it, so the factory must hand out an isolated store each time (a temp dir, a unique
 * key prefix, a unique tenant) and `close()` must release it.
 */
import type { Stores } from '../../storage/ports.ts';
import { describeConversations } from './conformance/conversations.ts';
import { describeGroups } from './conformance/groups.ts';
import { describeIdentity } from './conformance/identity.ts';
import { describeInbox } from './conformance/inbox.ts';
import { describeModeration } from './conformance/moderation.ts';
import { describeHistory, describeSequences } from './conformance/ordering.ts';
import { describeRoomLog } from './conformance/room-log.ts';

export interface OpenOptions {
  /** Inbox entries kept per user, when the test needs trimming. */
  readonly inboxMaxEntries?: number;
  /** How long inbox entries are kept, with the store's clock, when the test needs expiry. */
  readonly inboxRetentionMs?: number;
  readonly now?: () => number;
}

/** Opens a fresh, empty store that no other test sees. */
export type OpenStore = (options: OpenOptions) => Promise<Stores>;

/** Opens stores for one test and closes them after it, whatever the outcome. */
export interface Harness {
  open(options?: OpenOptions): Promise<Stores>;
}

export function describeStoreConformance(name: string, open: OpenStore): void {
  describe(`storage conformance: ${name}`, function () {
    const opened: Stores[] = [];
    const harness: Harness = {
      async open(options = {}) {
        const stores = await open(options);
        opened.push(stores);
        return stores;
      },
    };
    afterEach(async () => {
      const closing = opened.splice(0).map((stores) => stores.close());
      await Promise.all(closing);
    });

    describeIdentity(harness);
    describeSequences(harness);
    describeHistory(harness);
    describeInbox(harness);
    describeConversations(harness);
    describeRoomLog(harness);
    describeGroups(harness);
    describeModeration(harness);
  });
}
