/**
 * Storage: history writes/s and page reads/s on the embedded store and on a real Cassandra node;
 * the unread Lua script against the same update as separate commands; block sequences against a
 * plain INCR; what durable conversation rows cost per message (bench/storage/conversation-cost.ts).
 * Cassandra and Redis are those that ops/cassandra/start.sh and ops/redis/start.sh
 * run on loopback (CASSANDRA_PORT, REDIS_PORT); when either is not running, the bench says so
 * and measures the embedded store only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { MessageRecord } from '../protocol/bodies.ts';
import { cassandraAt, deleteKeys, dropKeyspace, redisAt, requireCassandra, requireRedis, uniqueName } from '../spec-integration/support/services.ts';
import { openEmbeddedStore } from '../storage/embedded/embedded-store.ts';
import type { HistoryStore, Stores } from '../storage/ports.ts';
import { openProductionStore } from '../storage/production.ts';
import { RedisConversations } from '../storage/redis/conversations.ts';
import { Keys } from '../storage/redis/keys.ts';
import type { BenchContext } from './support/context.ts';
import { conversationCost } from './storage/conversation-cost.ts';
import { integer, ratio } from './support/format.ts';

const IN_FLIGHT = [1, 64];
const STORED = 10_000;
const PAGE = 20;
const CONTENT = 'a message of about a hundred bytes, the size of a typical chat line in a 1:1 conversation ….';

interface Rate {
  readonly name: string;
  readonly perSecond: number;
}

/** Runs `op` from `inFlight` concurrent loops for `seconds`, then `settle`; operations per second. */
async function rate(seconds: number, inFlight: number, op: (i: number) => Promise<unknown>, settle?: () => Promise<void>): Promise<number> {
  let issued = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) await op(issued++);
  };
  await Promise.all(Array.from({ length: inFlight }, loop));
  await settle?.();
  return issued / ((performance.now() - started) / 1000);
}

function message(conversationId: string, seq: number): MessageRecord {
  return { messageId: `m${seq}`, conversationId, seq, from: 'ann', to: 'ben', kind: 1, content: CONTENT, sentAt: 1_700_000_000_000 + seq, clientMsgId: `c${seq}` };
}

function report(context: BenchContext, title: string, rates: readonly Rate[]): void {
  const base = rates[0]?.perSecond ?? 1;
  context.facts({
    title,
    rows: [['case', 'ops/s', 'vs first'], ...rates.map((r) => [r.name, integer(r.perSecond), r === rates[0] ? '(baseline)' : ratio(r.perSecond / base)])],
  });
}

/** Writes (each followed by durable(), as the logic does before an ACK) and pages of 20, newest first from a random point. */
async function historyRates(label: string, stores: Pick<Stores, 'history' | 'durable'>, seconds: number): Promise<{ writes: Rate[]; pages: Rate[] }> {
  const history: HistoryStore = stores.history;
  const writes: Rate[] = [];
  let conversation = 0;
  for (const inFlight of IN_FLIGHT) {
    const id = `p:w${conversation++}:bench`;
    const put = async (i: number) => {
      await history.put(message(id, i + 1));
      await stores.durable();
    };
    await rate(0.3, inFlight, put);
    writes.push({ name: `${label}, ${inFlight} in flight`, perSecond: await rate(seconds, inFlight, put) });
  }
  const id = 'p:read:bench';
  for (let seq = 1; seq <= STORED; seq += 500) {
    await Promise.all(Array.from({ length: 500 }, (_, i) => history.put(message(id, seq + i))));
  }
  await stores.durable();
  const pages: Rate[] = [];
  for (const inFlight of IN_FLIGHT) {
    const read = (i: number) => history.page(id, 1 + PAGE + ((i * 7919) % (STORED - PAGE)), PAGE);
    await rate(0.3, inFlight, read);
    pages.push({ name: `${label}, ${inFlight} in flight`, perSecond: await rate(seconds, inFlight, read) });
  }
  return { writes, pages };
}

/** The recordMessage script beside the same update as five commands, each awaited (what one writes without a script). */
async function unreadRates(redis: Redis, prefix: string, seconds: number): Promise<Rate[]> {
  const keys = new Keys(prefix);
  const scripted = new RedisConversations(redis, keys);
  const naive = async (userId: string, m: MessageRecord): Promise<void> => {
    const key = keys.conversation(userId, m.conversationId);
    const lastSeq = Number((await redis.hget(key, 'lastSeq')) ?? -1);
    if (m.seq > lastSeq) await redis.hset(key, 'peer', m.from, 'lastSeq', m.seq, 'updatedAt', m.sentAt, 'last', JSON.stringify(m));
    await redis.zadd(keys.conversationOrder(userId), m.sentAt, m.conversationId);
    await redis.hincrby(key, 'unread', 1);
    await redis.incr(keys.totalUnread(userId));
  };
  const rates: Rate[] = [];
  for (const inFlight of IN_FLIGHT) {
    const viaScript = (i: number) => scripted.recordMessage(`u${i % 1000}`, 'ann', message(`p:ann:u${i % 1000}`, i + 1), true);
    const viaCommands = (i: number) => naive(`v${i % 1000}`, message(`p:ann:v${i % 1000}`, i + 1));
    rates.push({ name: `5 commands, ${inFlight} in flight`, perSecond: await rate(seconds, inFlight, viaCommands) });
    rates.push({ name: `Lua script (EVALSHA), ${inFlight} in flight`, perSecond: await rate(seconds, inFlight, viaScript) });
  }
  return rates;
}

async function tryServices(): Promise<{ redis: Redis; keyspace: string } | string> {
  let redis: Redis;
  try {
    redis = await requireRedis();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  const keyspace = uniqueName('tern_bench_');
  try {
    await (await requireCassandra(keyspace)).close();
  } catch (error) {
    await redis.quit();
    return error instanceof Error ? error.message : String(error);
  }
  return { redis, keyspace };
}

export async function run(context: BenchContext): Promise<void> {
  const seconds = context.options.maxTime;
  const dir = mkdtempSync(join(tmpdir(), 'tern-bench-storage-'));
  const embedded = openEmbeddedStore({ path: dir });
  const local = await historyRates('embedded (LMDB)', embedded, seconds);
  await embedded.close();
  rmSync(dir, { recursive: true, force: true });

  const services = await tryServices();
  if (typeof services === 'string') {
    console.log(`\n${services}; measuring the embedded store only (start both servers with ops/redis/start.sh and ops/cassandra/start.sh).`);
    report(context, 'history writes/s (put + durable())', local.writes);
    report(context, `history page reads/s (${PAGE} newest first, ${STORED.toLocaleString('en')} stored)`, local.pages);
    return;
  }
  const { redis, keyspace } = services;
  const prefix = uniqueName('tern-bench:');
  const production = await openProductionStore({
    redis: { ...redisAt, keyPrefix: prefix },
    cassandra: { contactPoints: [`${cassandraAt.host}:${cassandraAt.port}`], keyspace, consistency: 'ONE' },
  });
  try {
    const remote = await historyRates('Cassandra, 1 node, ONE', production, seconds);
    report(context, 'history writes/s (put + durable())', [...local.writes, ...remote.writes]);
    report(context, `history page reads/s (${PAGE} newest first, ${STORED.toLocaleString('en')} stored)`, [...local.pages, ...remote.pages]);
    const unread = await unreadRates(redis, prefix, seconds);
    report(context, 'conversation update with unread counts (recordMessage), Redis on loopback', unread);
    const plain = (i: number) => redis.incr(`${prefix}plain:${i % 100}`);
    const blocks = (i: number) => production.sequences.next(`p:seq:${i % 100}`);
    // The first seq of a conversation reserves its first block (a lightweight transaction); the
    // steady state is measured after every conversation has one.
    let fresh = 0;
    const first = () => production.sequences.next(`p:new:${fresh++}`);
    await rate(0.5, 1, blocks);
    const sequences = [
      { name: 'plain INCR, 1 in flight', perSecond: await rate(seconds, 1, plain) },
      { name: 'block sequences, steady (run_id check in Lua), 1 in flight', perSecond: await rate(seconds, 1, blocks) },
      { name: 'block sequences, first seq of a conversation (LWT), 1 in flight', perSecond: await rate(seconds, 1, first) },
    ];
    report(context, 'sequence numbers (Redis on loopback; blocks of 1000 reserved in Cassandra)', sequences);
    await conversationCost(context, redis, keyspace);
    const at = (rates: readonly Rate[], i: number) => rates[i]?.perSecond ?? 0;
    context.goals('Redis scripts and sequences', [
      { label: 'Lua recordMessage over 5 commands, 1 in flight', actual: at(unread, 1) / at(unread, 0), target: 1.2, direction: 'atLeast' },
      { label: 'Lua recordMessage over 5 commands, 64 in flight', actual: at(unread, 3) / at(unread, 2), target: 2, direction: 'atLeast' },
      { label: 'steady block sequences over plain INCR', actual: at(sequences, 1) / at(sequences, 0), target: 0.5, direction: 'atLeast' },
    ]);
  } finally {
    await production.close();
    await deleteKeys(redis, prefix);
    await redis.quit();
    await dropKeyspace(keyspace);
  }
}
