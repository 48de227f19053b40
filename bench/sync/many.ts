/**
 * Many devices syncing against one server: every device pulls its whole inbox, either all at
 * once (the reconnect wave after a server restart or a network blip) or one after another (each
 * device on an otherwise idle server, the baseline).
 */
import type { Transport } from '../../client/transport.ts';
import { openDevice, pullAll, type PullOptions } from './pull.ts';

/** Connections opened at once while logging the devices in. */
const OPEN_BATCH = 100;

export interface ManyResult {
  readonly devices: number;
  readonly entries: number;
  readonly pages: number;
  readonly seconds: number;
  /** Per device, ms from the start of the wave (or of its own pull, one by one) to its empty page. */
  readonly syncedMs: number[];
  /** Per device, ms from the same start to the page that said nothing more was left. */
  readonly lastEntriesMs: number[];
  readonly throttled: number;
}

/** Opens and logs in one connection per user, a batch at a time. */
export async function openDevices(port: number, tokens: ReadonlyMap<string, string>, userIds: readonly string[]): Promise<Transport[]> {
  const open: Transport[] = [];
  for (let i = 0; i < userIds.length; i += OPEN_BATCH) {
    const batch = userIds.slice(i, i + OPEN_BATCH);
    open.push(...(await Promise.all(batch.map((userId) => openDevice(port, userId, tokenOf(tokens, userId))))));
  }
  return open;
}

function tokenOf(tokens: ReadonlyMap<string, string>, userId: string): string {
  const token = tokens.get(userId);
  if (token === undefined) throw new Error(`no token was seeded for ${userId}`);
  return token;
}

export async function syncAllAtOnce(devices: readonly Transport[], options: PullOptions): Promise<ManyResult> {
  const started = performance.now();
  const results = await Promise.all(
    devices.map(async (device) => {
      const asked = performance.now() - started;
      const result = await pullAll(device, options);
      return { ...result, syncedMs: performance.now() - started, lastEntriesMs: asked + result.lastEntriesMs };
    }),
  );
  return summarise(results, (performance.now() - started) / 1000);
}

export async function syncOneByOne(devices: readonly Transport[], options: PullOptions): Promise<ManyResult> {
  const started = performance.now();
  const results = [];
  for (const device of devices) {
    const result = await pullAll(device, options);
    results.push({ ...result, syncedMs: result.seconds * 1000 });
  }
  return summarise(results, (performance.now() - started) / 1000);
}

interface DeviceResult {
  readonly entries: number;
  readonly pages: number;
  readonly throttled: number;
  readonly syncedMs: number;
  readonly lastEntriesMs: number;
}

function summarise(results: readonly DeviceResult[], seconds: number): ManyResult {
  let entries = 0;
  let pages = 0;
  let throttled = 0;
  for (const r of results) {
    entries += r.entries;
    pages += r.pages;
    throttled += r.throttled;
  }
  return { devices: results.length, entries, pages, seconds, syncedMs: results.map((r) => r.syncedMs), lastEntriesMs: results.map((r) => r.lastEntriesMs), throttled };
}
