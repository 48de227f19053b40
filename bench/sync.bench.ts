/**
 * Offline sync and durable writes, each beside a baseline measured in the same run:
 *  1. one device pulling a 20,000-entry inbox in pages of 200 over loopback from a server process,
 *     beside the same pages read, encoded and synced in-process with no socket; and the bytes of
 *     a page on the wire (LZ4 as sent, plain msgpack, gzip level 6);
 *  2. 1,000 devices with 200 entries each syncing all at once, beside the same devices one by one;
 *  3. persisted 1:1 messages per second on the embedded store with many sends in flight (their
 *     writes share LMDB commits: group commit), beside one send at a time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnListening, stopProcess, type ServerProcess } from '../spec/support/process.ts';
import { percentile } from './e2e/load.ts';
import type { BenchContext } from './support/context.ts';
import { integer } from './support/format.ts';
import { atLeast, atMost } from './support/goals.ts';
import { Prng } from './support/prng.ts';
import { persistMessages, type CommitResult } from './sync/commit.ts';
import { logicSync, readAndEncode, readOnly, type LoopResult } from './sync/in-process.ts';
import { openDevices, syncAllAtOnce, syncOneByOne, type ManyResult } from './sync/many.ts';
import { openDevice, pullAll, type PullResult } from './sync/pull.ts';
import { seedInboxes, type SeededStore } from './sync/seed.ts';
import { pageSizes, totalBytes } from './sync/wire-sizes.ts';

const PAGE = 200;
/** The largest page the protocol allows, for what a bigger page would buy. */
const BIG_PAGE = 1_000;
const ONE_DEVICE_ENTRIES = 20_000;
const DEVICES = 1_000;
const ENTRIES_PER_DEVICE = 200;
/** Contacts each inbox's conversations are spread over. */
const CONTACTS = 40;
/** Above the largest inbox, so that nothing is trimmed (the server's default keeps 10,000). */
const INBOX_MAX_ENTRIES = 50_000;
/** Timed runs of each one-device case after one warm-up run; the median is reported. */
const REPEATS = 5;
/** Sync waves of all devices; the median is reported. */
const WAVES = 3;
const COMMIT_USERS = 1_000;
const COMMIT_MESSAGES = 20_000;
/** The one-at-a-time case commits once per message, so it stops at this deadline rather than at the count. */
const COMMIT_DEADLINE_MS = 8_000;
const COMMIT_CONTENT_LENGTH = 60;
const IN_FLIGHT = [1, 16, 256] as const;
const READER = 'reader';
const SEED = 0x5eed;

const ms = (n: number) => n.toFixed(2);
const rate = (n: number) => integer(n);

/** The run with the median duration. */
function medianRun<T extends { seconds: number }>(runs: readonly T[]): T {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  return sorted[sorted.length >> 1] as T;
}

async function repeated<T extends { seconds: number }>(run: () => Promise<T>, times: number): Promise<T> {
  await run();
  const runs: T[] = [];
  for (let i = 0; i < times; i++) runs.push(await run());
  return medianRun(runs);
}

async function seed(context: BenchContext, path: string): Promise<SeededStore> {
  const contacts = Array.from({ length: CONTACTS }, (_, i) => `friend${i}`);
  const plans = [
    { userId: READER, peers: contacts, entries: ONE_DEVICE_ENTRIES },
    ...Array.from({ length: DEVICES }, (_, i) => ({ userId: `device${i}`, peers: contacts, entries: ENTRIES_PER_DEVICE })),
  ];
  const seeded = await seedInboxes(path, INBOX_MAX_ENTRIES, new Prng(SEED), plans);
  context.facts({
    title: 'seeded store (inbox port, embedded LMDB; not part of any figure below)',
    rows: [
      ['inboxes', 'entries', 's', 'appends/s'],
      [integer(plans.length), integer(seeded.entries), seeded.seconds.toFixed(1), rate(seeded.entries / seeded.seconds)],
    ],
  });
  return seeded;
}

type Timed = LoopResult & { readonly throttled?: number };

function syncRow(name: string, r: Timed, baseline: Timed): string[] {
  const perSecond = r.entries / r.seconds;
  return [
    name,
    integer(r.pages),
    ms(r.seconds * 1000),
    rate(perSecond),
    rate(r.pages / r.seconds),
    ms(percentile(r.pageMs, 50)),
    ms(percentile(r.pageMs, 99)),
    r.throttled === undefined ? '-' : String(r.throttled),
    `${((perSecond / (baseline.entries / baseline.seconds)) * 100).toFixed(0)} %`,
  ];
}

/** Each pull on a fresh connection, as a device syncs once after connecting (the frame limit is per connection). */
function socketPull(port: number, token: string, pageSize: number): () => Promise<PullResult> {
  const maxPages = Math.ceil(ONE_DEVICE_ENTRIES / pageSize) + 2;
  return async () => {
    const transport = await openDevice(port, READER, token);
    try {
      return await pullAll(transport, { pageSize, maxPages, keepFrames: true });
    } finally {
      transport.close();
    }
  };
}

async function oneDeviceInProcess(seeded: SeededStore): Promise<[string, LoopResult][]> {
  const maxPages = ONE_DEVICE_ENTRIES / PAGE + 2;
  return [
    ['inbox.read only (baseline)', await repeated(() => readOnly(seeded.stores, READER, PAGE, maxPages), REPEATS)],
    ['+ encode, LZ4 (gateway framing)', await repeated(() => readAndEncode(seeded.stores, READER, PAGE, maxPages), REPEATS)],
    ['+ Logic sync (cursor write, awaited commit)', await repeated(() => logicSync(seeded.logic, READER, 'in-process', PAGE, maxPages), REPEATS)],
  ];
}

async function oneDevice(context: BenchContext, inProcess: [string, LoopResult][], port: number, token: string): Promise<void> {
  const socket = await repeated(socketPull(port, token, PAGE), REPEATS);
  const bigPages = await repeated(socketPull(port, token, BIG_PAGE), REPEATS);
  const [, baseline] = inProcess[0] as [string, LoopResult];
  const [, logic] = inProcess[2] as [string, LoopResult];
  context.facts({
    title: `one device pulls ${integer(ONE_DEVICE_ENTRIES)} inbox entries until the empty page (median of ${REPEATS} runs)`,
    rows: [
      ['path', 'pages', 'ms', 'entries/s', 'pages/s', 'page p50 ms', 'page p99 ms', 'throttled', 'of baseline'],
      ...inProcess.map(([name, r]) => syncRow(`in-process: ${name}`, r, baseline)),
      syncRow(`loopback socket, server process, page ${PAGE}`, socket, baseline),
      syncRow(`loopback socket, server process, page ${BIG_PAGE}`, bigPages, baseline),
    ],
  });
  const sizes = pageSizes(socket.frames, PAGE);
  const perEntry = (bytes: number) => (bytes / sizes.entries).toFixed(1);
  const share = (bytes: number) => `${((bytes / sizes.msgpack) * 100).toFixed(0)} %`;
  const wire = totalBytes(socket.frames);
  context.facts({
    title: `bytes per ${PAGE}-entry sync page, from the ${sizes.pages} full pages the server sent (frame header included); the pull put ${(wire / 2 ** 20).toFixed(2)} MiB on the wire, ${(wire / socket.seconds / 2 ** 20).toFixed(1)} MiB/s`,
    rows: [
      ['body', 'bytes/page', 'bytes/entry', 'of msgpack'],
      ['msgpack, uncompressed (baseline)', integer(sizes.msgpack), perEntry(sizes.msgpack), share(sizes.msgpack)],
      [`LZ4 as sent${sizes.uncompressed > 0 ? ` (${sizes.uncompressed} pages sent plain)` : ''}`, integer(sizes.asSent), perEntry(sizes.asSent), share(sizes.asSent)],
      ['gzip level 6 of the same msgpack', integer(sizes.gzip6), perEntry(sizes.gzip6), share(sizes.gzip6)],
    ],
  });
  context.goals(`one device, ${integer(ONE_DEVICE_ENTRIES)} entries in pages of ${PAGE}`, [
    atLeast('socket entries/s against in-process Logic sync', socket.entries / socket.seconds / (logic.entries / logic.seconds), 0.5),
    atMost('LZ4 page bytes against msgpack', sizes.asSent / sizes.msgpack, 0.6),
    atMost('LZ4 page bytes against gzip level 6', sizes.asSent / sizes.gzip6, 1.5),
  ]);
}

function waveRow(name: string, r: ManyResult, baseline: ManyResult): string[] {
  const perSecond = r.entries / r.seconds;
  return [
    name,
    integer(r.entries),
    ms(r.seconds * 1000),
    rate(perSecond),
    ms(percentile(r.lastEntriesMs, 50)),
    ms(percentile(r.syncedMs, 50)),
    ms(percentile(r.syncedMs, 99)),
    String(r.throttled),
    `${((perSecond / (baseline.entries / baseline.seconds)) * 100).toFixed(0)} %`,
  ];
}

async function manyDevices(context: BenchContext, port: number, tokens: ReadonlyMap<string, string>): Promise<void> {
  const userIds = Array.from({ length: DEVICES }, (_, i) => `device${i}`);
  const opening = performance.now();
  const devices = await openDevices(port, tokens, userIds);
  const openSeconds = (performance.now() - opening) / 1000;
  try {
    const options = { pageSize: PAGE, maxPages: Math.ceil(ENTRIES_PER_DEVICE / PAGE) + 2, keepFrames: false };
    const oneByOne = await syncOneByOne(devices, options);
    const waves: ManyResult[] = [];
    for (let i = 0; i < WAVES; i++) waves.push(await syncAllAtOnce(devices, options));
    const wave = medianRun(waves);
    context.facts({
      title: `${integer(DEVICES)} devices, ${ENTRIES_PER_DEVICE} entries each, pages of ${PAGE}; logged in with tokens beforehand (${openSeconds.toFixed(2)} s)`,
      rows: [
        ['run', 'entries', 'ms', 'entries/s', 'last entries p50 ms', 'synced p50 ms', 'synced p99 ms', 'throttled', 'of baseline'],
        waveRow('one device after another (baseline)', oneByOne, oneByOne),
        waveRow(`all at once (median of ${WAVES} waves)`, wave, oneByOne),
      ],
    });
    context.goals(`${integer(DEVICES)} devices syncing at once`, [
      atLeast('all at once against one by one (entries/s)', wave.entries / wave.seconds / (oneByOne.entries / oneByOne.seconds), 2),
      atMost('p50 time to synced against the whole wave', percentile(wave.syncedMs, 50) / (wave.seconds * 1000), 0.6),
    ]);
  } finally {
    for (const device of devices) device.close();
  }
}

async function groupCommit(context: BenchContext): Promise<void> {
  const results: CommitResult[] = [];
  for (const inFlight of IN_FLIGHT) {
    results.push(
      await persistMessages({ users: COMMIT_USERS, messages: COMMIT_MESSAGES, inFlight, deadlineMs: COMMIT_DEADLINE_MS, contentLength: COMMIT_CONTENT_LENGTH }),
    );
  }
  const baseline = results[0] as CommitResult;
  const perSecond = (r: CommitResult) => r.messages / r.seconds;
  context.facts({
    title: `persisted 1:1 messages on the embedded store: Logic.request('send'), each awaiting its commit (up to ${integer(COMMIT_MESSAGES)} or ${COMMIT_DEADLINE_MS / 1000} s)`,
    rows: [
      ['sends in flight', 'messages', 'ms', 'msgs/s', 'p50 ms', 'p99 ms', 'against 1'],
      ...results.map((r) => [
        r.inFlight === 1 ? '1: a commit per message (baseline)' : `${r.inFlight}: group commit`,
        integer(r.messages),
        ms(r.seconds * 1000),
        rate(perSecond(r)),
        ms(percentile(r.latencyMs, 50)),
        ms(percentile(r.latencyMs, 99)),
        `${(perSecond(r) / perSecond(baseline)).toFixed(2)}×`,
      ]),
    ],
  });
  const most = results.at(-1) as CommitResult;
  context.goals('group commit', [atLeast(`${most.inFlight} in flight against 1 in flight (msgs/s)`, perSecond(most) / perSecond(baseline), 5)]);
}

async function syncBenches(context: BenchContext): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tern-bench-sync-'));
  let server: ServerProcess | undefined;
  try {
    const storePath = join(dir, 'store');
    const seeded = await seed(context, storePath);
    const inProcess = await oneDeviceInProcess(seeded);
    // The server process opens the same environment: the bench's handle must be closed first.
    await seeded.stores.close();
    const port = await freePort();
    server = await spawnListening('bench/sync/node-server.ts', ['--port', String(port), '--data-dir', storePath, '--inbox-max-entries', String(INBOX_MAX_ENTRIES)], port);
    await oneDevice(context, inProcess, port, seeded.tokens.get(READER) as string);
    await manyDevices(context, port, seeded.tokens);
  } finally {
    if (server) await stopProcess(server.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(context: BenchContext): Promise<void> {
  await syncBenches(context);
  await groupCommit(context);
}
