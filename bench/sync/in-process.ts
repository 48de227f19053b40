/**
 * The baselines of the one-device sync, in the bench's own process and without a socket: what
 * reading the inbox costs, what encoding and compressing the pages adds, and what the logic's
 * sync adds on top (the device cursor write and the commit it waits for on every page). The
 * socket figure beside them then shows what the network path and the client cost.
 */
import { encodeFrame } from '../../codec/index.ts';
import { Bodies, Platform, type BodyOf } from '../../protocol/bodies.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import type { Logic } from '../../server/logic/logic.ts';
import type { Stores } from '../../storage/ports.ts';
import { keep } from '../support/sink.ts';

export interface LoopResult {
  readonly entries: number;
  readonly pages: number;
  readonly seconds: number;
  /** Time to get each page, ms. */
  readonly pageMs: number[];
}

type PageSource = (sinceVersion: number) => Promise<BodyOf<'syncPage'>>;

/** Pulls pages from version 0 until the empty one, as the device would. */
async function pageLoop(next: PageSource, maxPages: number): Promise<LoopResult> {
  let version = 0;
  let entries = 0;
  const pageMs: number[] = [];
  const started = performance.now();
  for (let pages = 1; ; pages++) {
    if (pages > maxPages) throw new Error(`sync did not end within ${maxPages} pages`);
    const asked = performance.now();
    const page = await next(version);
    pageMs.push(performance.now() - asked);
    if (page.entries.length === 0) return { entries, pages, seconds: (performance.now() - started) / 1000, pageMs };
    entries += page.entries.length;
    version = page.lastVersion;
  }
}

/** The page body straight from the inbox port, as Sync builds it. */
function storePage(stores: Stores, userId: string, pageSize: number): PageSource {
  return async (sinceVersion) => {
    const read = await stores.inbox.read(userId, sinceVersion, pageSize);
    const lastVersion = read.entries.at(-1)?.version ?? sinceVersion;
    return { entries: read.entries, hasMore: lastVersion < read.latestVersion, lastVersion, latestVersion: read.latestVersion };
  };
}

/** Frames the page as the gateway does (msgpack, then LZ4 above the default threshold). */
function encoded(source: PageSource): PageSource {
  return async (sinceVersion) => {
    const page = await source(sinceVersion);
    keep(encodeFrame(Opcode.syncPage, 1, Bodies.syncPage, page));
    return page;
  };
}

export function readOnly(stores: Stores, userId: string, pageSize: number, maxPages: number): Promise<LoopResult> {
  return pageLoop(storePage(stores, userId, pageSize), maxPages);
}

export function readAndEncode(stores: Stores, userId: string, pageSize: number, maxPages: number): Promise<LoopResult> {
  return pageLoop(encoded(storePage(stores, userId, pageSize)), maxPages);
}

/** Logic.request('sync') as the gateway calls it, then framed: everything but the socket. */
export function logicSync(logic: Logic, userId: string, deviceId: string, pageSize: number, maxPages: number): Promise<LoopResult> {
  const session = { connectionId: 'bench.1', userId, deviceId, platform: Platform.android };
  return pageLoop(encoded((sinceVersion) => logic.request(session, 'sync', { sinceVersion, limit: pageSize })), maxPages);
}
