/**
 * What durable 1:1 conversation rows cost per message on the production store: the same
 * workload (1:1 commits, and every tenth message the receiver reads to the end, as the logic
 * does: get, then markRead) on conversation rows kept in Redis only (the baseline) and on rows
 * kept in Cassandra with Redis as the hot copy (storage/production-conversations.ts), in one
 * run. Counted per 1,000 messages: top-level Redis commands (seen by MONITOR, commands inside a
 * script not counted, those of a MULTI each counted), Cassandra queries by kind, and this
 * process's CPU time (store code and the driving loop alike, the same loop for both).
 */
import type { Redis } from 'ioredis';
import { ComposedMessageStore } from '../../storage/composed-commit.ts';
import type { QueryKind } from '../../storage/cassandra/session.ts';
import type { ConversationStore, MessageStore, Stores } from '../../storage/ports.ts';
import { openProductionStore } from '../../storage/production.ts';
import { RedisConversations } from '../../storage/redis/conversations.ts';
import { Keys } from '../../storage/redis/keys.ts';
import { cassandraAt, deleteKeys, redisAt, uniqueName } from '../../spec-integration/support/services.ts';
import type { BenchContext } from '../support/context.ts';
import { integer } from '../support/format.ts';

const PAIRS = 50;
const IN_FLIGHT = 16;
const READ_EVERY = 10;
const COUNTED_MESSAGES = 1000;
const TIMED_MESSAGES = 3000;
const CONTENT = 'a message of about a hundred bytes, the size of a typical chat line in a 1:1 conversation ….';

interface Case {
  readonly name: string;
  readonly prefix: string;
  readonly stores: Stores;
  readonly messages: MessageStore;
  readonly conversations: ConversationStore;
  readonly queries: Record<QueryKind, number>;
}

interface Counted {
  readonly redis: number;
  readonly cassandra: Record<QueryKind, number>;
}

let sent = 0;

/** `count` messages over PAIRS conversations, IN_FLIGHT at a time; every READ_EVERY-th one is then read. */
async function workload(c: Case, count: number): Promise<void> {
  let next = 0;
  const loop = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const pair = i % PAIRS;
      const [from, to] = [`s${pair}`, `r${pair}`];
      const conversationId = `p:${from}:${to}`;
      const n = sent++;
      await c.messages.commit({ from, to, conversationId, clientMsgId: `c${n}`, kind: 1, content: CONTENT, messageId: `m${n}`, sentAt: 1_700_000_000_000 + n });
      if (i % READ_EVERY !== READ_EVERY - 1) continue;
      const state = await c.conversations.get(to, conversationId);
      if (state) await c.conversations.markRead(to, conversationId, state.lastSeq, state.unread, state.rev ?? 0);
      await c.stores.durable();
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, loop));
}

async function counted(c: Case, redis: Redis, count: number): Promise<Counted> {
  const monitor = await redis.monitor();
  let commands = 0;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source !== 'lua' && args.some((a) => a.includes(c.prefix))) commands++;
  });
  const before = { ...c.queries };
  await workload(c, count);
  await new Promise((r) => setTimeout(r, 200));
  monitor.disconnect();
  const per = (n: number) => (n * 1000) / count;
  return { redis: per(commands), cassandra: { read: per(c.queries.read - before.read), write: per(c.queries.write - before.write), conditional: per(c.queries.conditional - before.conditional) } };
}

async function timed(c: Case, count: number): Promise<{ cpuMs: number; perSecond: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await workload(c, count);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { cpuMs: ((used.user + used.system) / 1000 / count) * 1000, perSecond: count / seconds };
}

async function openCase(name: string, keyspace: string, redis: Redis, hotOnly: boolean): Promise<Case> {
  const prefix = uniqueName('tern-bench:');
  const queries: Record<QueryKind, number> = { read: 0, write: 0, conditional: 0 };
  const stores = await openProductionStore({
    redis: { ...redisAt, keyPrefix: prefix },
    cassandra: { contactPoints: [`${cassandraAt.host}:${cassandraAt.port}`], keyspace, tenant: uniqueName('t'), consistency: 'ONE', onQuery: (kind) => queries[kind]++ },
  });
  // The baseline: the same store with the conversation rows in Redis only, as before they were kept.
  const conversations = hotOnly ? new RedisConversations(redis, new Keys(prefix)) : stores.conversations;
  const messages = hotOnly ? new ComposedMessageStore({ ...stores, conversations }) : stores.messages;
  return { name, prefix, stores, messages, conversations, queries };
}

export async function conversationCost(context: BenchContext, redis: Redis, keyspace: string): Promise<void> {
  const cases = [await openCase('rows in Redis only (baseline)', keyspace, redis, true), await openCase('rows in Cassandra, Redis hot copy', keyspace, redis, false)];
  try {
    const first: Counted[] = [];
    for (const c of cases) first.push(await counted(c, redis, PAIRS));
    const steady: Counted[] = [];
    for (const c of cases) steady.push(await counted(c, redis, COUNTED_MESSAGES));
    // Timed twice each, interleaved, so a noisy neighbour weighs on both alike.
    const times: { cpuMs: number; perSecond: number }[][] = cases.map(() => []);
    for (let round = 0; round < 2; round++) for (const [i, c] of cases.entries()) times[i]?.push(await timed(c, TIMED_MESSAGES));
    const q = (n: Counted) => `${n.cassandra.read.toFixed(0)} / ${n.cassandra.write.toFixed(0)} / ${n.cassandra.conditional.toFixed(0)}`;
    context.facts({
      title: `1:1 commits on the production store (Redis + Cassandra, ONE), ${PAIRS} conversations, ${IN_FLIGHT} in flight, a read mark every ${READ_EVERY} messages; per 1,000 messages (Cassandra queries read / write / LWT)`,
      rows: [
        ['case', 'first message of each conversation: Redis cmds', 'Cassandra', 'steady: Redis cmds', 'Cassandra', 'CPU ms (2 runs)', 'msg/s (2 runs)'],
        ...cases.map((c, i) => {
          const t = times[i] ?? [];
          return [c.name, integer(first[i]?.redis ?? 0), first[i] ? q(first[i]) : '', integer(steady[i]?.redis ?? 0), steady[i] ? q(steady[i]) : '', t.map((r) => integer(r.cpuMs)).join(' · '), t.map((r) => integer(r.perSecond)).join(' · ')];
        }),
      ],
    });
  } finally {
    for (const c of cases) {
      await c.stores.close();
      await deleteKeys(redis, c.prefix);
    }
  }
}
