/**
 * The real node in its own process for the group bench: embedded store, cheap password hashing,
 * the write-diffusion threshold as a flag, and `--offline-users N` accounts created directly in
 * the store (members that never connect). On SIGUSR2 it prints a `stats` line with its group
 * store writes and push encodes, which the bench reads before and after a run.
 */
import { parseArgs } from 'node:util';
import { pushBodyEncodes } from '../../server/push-payload.ts';
import { DEFAULT_GROUP_LIMITS } from '../../server/logic/groups/membership.ts';
import { quietLogger, startNode } from '../../server/node.ts';
import type { EmbeddedGroups } from '../../storage/embedded/groups.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'data-dir': { type: 'string' },
    'write-diffusion-max': { type: 'string' },
    'offline-users': { type: 'string' },
  },
  strict: true,
});
const dataDir = values['data-dir'];
if (dataDir === undefined) throw new Error('--data-dir is required');

const node = await startNode({
  dataDir,
  host: '127.0.0.1',
  port: Number(values.port ?? 0),
  scryptCost: 2 ** 10,
  scryptQueue: { queueLimit: 1_000_000 },
  // One owner posts 10,000 messages in seconds for the catch-up run: the per-user quota is not measured here.
  sendQuota: { windowMs: 10_000, messages: 1_000_000_000, bytes: 1e15, maxUsers: 100_000 },
  logger: quietLogger,
  gateway: { maxAcceptsPerSecond: 100_000, framesPerSecond: 100_000, maxConnections: 19_000 },
  groups: { ...DEFAULT_GROUP_LIMITS, writeDiffusionMaxMembers: Number(values['write-diffusion-max'] ?? 0) },
});
const offline = Number(values['offline-users'] ?? 0);
for (let i = 0; i < offline; i++) await node.stores.accounts.create({ userId: `off${i}`, salt: 'x', passwordHash: 'x', createdAt: 0 });
await node.stores.durable();
console.log(`tern listening on ${node.port}`);

process.on('SIGUSR2', () => {
  const groups = node.stores.groups as EmbeddedGroups;
  console.log(`stats ${JSON.stringify({ groupWrites: groups.writes, encodes: pushBodyEncodes() })}`);
});
process.once('SIGTERM', () => {
  void node.close().finally(() => process.exit(0));
});
