/**
 * The real node (embedded store, logic, gateway) in its own process for the sync bench, started
 * on a store the bench has seeded. It differs from `server/main.ts` only in taking the inbox size
 * and the per-connection frame rate as flags, which the bench needs and the server CLI does not
 * offer. Exits cleanly on SIGTERM, so that a profile taken with `node --cpu-prof` gets written.
 */
import { parseArgs } from 'node:util';
import { quietLogger, startNode } from '../../server/node.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'data-dir': { type: 'string' },
    'inbox-max-entries': { type: 'string' },
    'frames-per-second': { type: 'string' },
  },
  strict: true,
});
const dataDir = values['data-dir'];
if (dataDir === undefined) throw new Error('--data-dir is required');
const framesPerSecond = values['frames-per-second'] === undefined ? undefined : Number(values['frames-per-second']);

const node = await startNode({
  dataDir,
  host: '127.0.0.1',
  port: Number(values.port ?? 0),
  inboxMaxEntries: Number(values['inbox-max-entries'] ?? 10_000),
  scryptQueue: { queueLimit: 1_000_000 },
  logger: quietLogger,
  gateway: { maxAcceptsPerSecond: 100_000, ...(framesPerSecond === undefined ? {} : { framesPerSecond }) },
});
console.log(`tern listening on ${node.port}`);

process.once('SIGTERM', () => {
  void node.close().finally(() => process.exit(0));
});
