/**
 * Server configuration from flags and environment (flags win). Every option has a default that
 * makes `npm start` run a working node on the embedded store.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_SCRYPT_COST } from './logic/passwords.ts';
import type { StoreConfig } from './stores.ts';

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly tlsPort: number;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly dataDir: string;
  readonly workers: number;
  readonly maxConnectionsPerWorker: number;
  readonly maxAcceptsPerSecond: number;
  readonly scryptCost: number;
  readonly logLevel: 'info' | 'quiet';
  /** The embedded store in dataDir, or Redis + Cassandra shared with other nodes. */
  readonly store: StoreConfig;
}

const HELP = `Usage: npm start -- [options]

  --host ADDR           listen address             (TERN_HOST, default 0.0.0.0)
  --port N              TCP port                   (TERN_PORT, default 7000)
  --tls-port N          TLS port                   (TERN_TLS_PORT, default 7443)
  --tls-cert FILE       PEM certificate; TLS is on when cert and key are given (TERN_TLS_CERT)
  --tls-key FILE        PEM private key            (TERN_TLS_KEY)
  --data-dir DIR        embedded store directory   (TERN_DATA_DIR, default ./var/data)
  --store KIND          embedded, or production (Redis + Cassandra, shared by many nodes)
                                                   (TERN_STORE, default embedded)
  --redis-url URL       production: redis://host:port[/db] (TERN_REDIS_URL, default redis://127.0.0.1:6379)
  --cassandra LIST      production: Cassandra contact points host:port, comma-separated
                                                   (TERN_CASSANDRA, default 127.0.0.1:9042)
  --keyspace NAME       production: Cassandra keyspace (TERN_KEYSPACE, default tern)
  --tenant NAME         production: Cassandra tenant, for tenants sharing tables (TERN_TENANT, default none)
  --key-prefix P        production: prefix of Redis keys and channels (TERN_KEY_PREFIX, default tern:)
  --node-id ID          production: this node's id among nodes sharing Redis (TERN_NODE_ID, default random)
  --workers N           gateway processes; 1 runs everything in one process
                                                   (TERN_WORKERS, default: one per core)
  --max-connections N   per gateway process        (TERN_MAX_CONNECTIONS, default 19000)
  --max-accept-rate N   new connections per second per gateway process (TERN_MAX_ACCEPT_RATE, default 5000)
  --scrypt-cost N       scrypt N for new passwords, a power of two (TERN_SCRYPT_COST, default 32768)
  --quiet               no logs                    (TERN_QUIET=1)
  --help
`;

function integer(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

function powerOfTwo(name: string, n: number): number {
  if (n < 2 || (n & (n - 1)) !== 0) throw new Error(`${name} must be a power of two ≥ 2, got ${n}`);
  return n;
}

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): ServerConfig | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'tls-port': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'data-dir': { type: 'string' },
      workers: { type: 'string' },
      'max-connections': { type: 'string' },
      'scrypt-cost': { type: 'string' },
      'max-accept-rate': { type: 'string' },
      store: { type: 'string' },
      'redis-url': { type: 'string' },
      cassandra: { type: 'string' },
      keyspace: { type: 'string' },
      tenant: { type: 'string' },
      'key-prefix': { type: 'string' },
      'node-id': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const dataDir = values['data-dir'] ?? env.TERN_DATA_DIR ?? 'var/data';
  const kind = values.store ?? env.TERN_STORE ?? 'embedded';
  let store: StoreConfig;
  if (kind === 'embedded') store = { kind, dataDir };
  else if (kind === 'production') {
    const nodeId = values['node-id'] ?? env.TERN_NODE_ID;
    if (nodeId !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(nodeId)) throw new Error(`--node-id must be 1-64 characters of [A-Za-z0-9_.-], got "${nodeId}"`);
    const cassandra = (values.cassandra ?? env.TERN_CASSANDRA ?? '127.0.0.1:9042').split(',').map((point) => point.trim()).filter((point) => point !== '');
    if (cassandra.length === 0) throw new Error('--cassandra needs at least one host:port');
    store = {
      kind,
      redisUrl: values['redis-url'] ?? env.TERN_REDIS_URL ?? 'redis://127.0.0.1:6379',
      cassandra,
      keyspace: values.keyspace ?? env.TERN_KEYSPACE ?? 'tern',
      tenant: values.tenant ?? env.TERN_TENANT ?? '',
      keyPrefix: values['key-prefix'] ?? env.TERN_KEY_PREFIX ?? 'tern:',
      ...(nodeId !== undefined ? { nodeId } : {}),
    };
  } else throw new Error(`--store must be embedded or production, got "${kind}"`);
  return {
    host: values.host ?? env.TERN_HOST ?? '0.0.0.0',
    port: integer('--port', values.port ?? env.TERN_PORT, 7000),
    tlsPort: integer('--tls-port', values['tls-port'] ?? env.TERN_TLS_PORT, 7443),
    tlsCert: values['tls-cert'] ?? env.TERN_TLS_CERT,
    tlsKey: values['tls-key'] ?? env.TERN_TLS_KEY,
    dataDir,
    workers: integer('--workers', values.workers ?? env.TERN_WORKERS, availableParallelism()),
    maxConnectionsPerWorker: integer('--max-connections', values['max-connections'] ?? env.TERN_MAX_CONNECTIONS, 19_000),
    maxAcceptsPerSecond: integer('--max-accept-rate', values['max-accept-rate'] ?? env.TERN_MAX_ACCEPT_RATE, 5_000),
    scryptCost: powerOfTwo('--scrypt-cost', integer('--scrypt-cost', values['scrypt-cost'] ?? env.TERN_SCRYPT_COST, DEFAULT_SCRYPT_COST)),
    logLevel: values.quiet || env.TERN_QUIET === '1' ? 'quiet' : 'info',
    store,
  };
}

export const USAGE = HELP;
