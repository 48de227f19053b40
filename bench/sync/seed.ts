/**
 * Seeds an embedded store for the sync bench: accounts registered through the logic (so that
 * their tokens are real), and inboxes written straight through the inbox port, which is far
 * faster than sending every message and leaves the inbox exactly as sync reads it.
 */
import { Platform } from '../../protocol/bodies.ts';
import { systemClock } from '../../server/logic/clock.ts';
import { Logic } from '../../server/logic/logic.ts';
import { openEmbeddedStore } from '../../storage/embedded/embedded-store.ts';
import type { NewEntry, Stores } from '../../storage/ports.ts';
import type { Prng } from '../support/prng.ts';
import { fillInbox } from './inbox-fixtures.ts';
import { DEVICE_ID } from './pull.ts';

/** scrypt N for the seeded accounts: logins use tokens, so the password cost is not measured. */
const SEED_SCRYPT_COST = 16;
/** Appends issued before waiting for their commit, so that the write queue stays bounded. */
const APPENDS_PER_COMMIT = 10_000;

export interface InboxPlan {
  readonly userId: string;
  readonly peers: readonly string[];
  readonly entries: number;
}

export interface SeededStore {
  readonly stores: Stores;
  readonly logic: Logic;
  /** Session token of each planned user. */
  readonly tokens: Map<string, string>;
  readonly entries: number;
  readonly seconds: number;
}

export function openSeedStore(path: string, inboxMaxEntries: number): { stores: Stores; logic: Logic } {
  const stores = openEmbeddedStore({ path, inboxMaxEntries });
  const logic = new Logic(stores, systemClock, { auth: { passwords: { cost: SEED_SCRYPT_COST }, tokenTtlMs: 24 * 3600 * 1000 } });
  return { stores, logic };
}

export async function seedInboxes(path: string, inboxMaxEntries: number, prng: Prng, plans: readonly InboxPlan[]): Promise<SeededStore> {
  const { stores, logic } = openSeedStore(path, inboxMaxEntries);
  const tokens = new Map<string, string>();
  for (const [i, plan] of plans.entries()) {
    const client = { connectionId: `seed.${i}`, remoteAddress: 'seed', client: 'seed' };
    const { reply } = await logic.register(client, { userId: plan.userId, password: 'pw', deviceId: DEVICE_ID, platform: Platform.android });
    tokens.set(plan.userId, reply.token);
  }
  let issued = 0;
  const append = async (userId: string, entry: NewEntry): Promise<number> => {
    const { version } = await stores.inbox.append(userId, entry);
    if (++issued % APPENDS_PER_COMMIT === 0) await stores.durable();
    return version;
  };
  const started = performance.now();
  for (const plan of plans) await fillInbox(prng, plan.userId, plan.peers, plan.entries, append);
  await stores.durable();
  return { stores, logic, tokens, entries: issued, seconds: (performance.now() - started) / 1000 };
}
