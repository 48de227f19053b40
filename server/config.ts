/**
 * Server configuration from flags and environment (flags win). Every option has a default that
 * makes `npm start` run a working node on the embedded store.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_SCRYPT_COST } from './logic/passwords.ts';
import type { StoreConfig } from './stores.ts';

export const LOG_LEVELS = ['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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
  readonly logLevel: LogLevel;
  /** The admin HTTP listener (/health, /ready, /metrics, /admin/); undefined when off. */
  readonly admin: { readonly host: string; readonly port: number; readonly token: string | undefined } | undefined;
  /** SIGTERM: longest wait for in-flight requests and push ACKs, and the spread of goAway.reconnectAfterMs. */
  readonly drainGraceMs: number;
  readonly drainSpreadMs: number;
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
  --log-level L         silent, fatal, error, warn, info, debug or trace (TERN_LOG_LEVEL, default info)
  --quiet               no logs, as --log-level silent (TERN_QUIET=1)
  --admin-host ADDR     admin HTTP listener address (TERN_ADMIN_HOST, default 127.0.0.1)
  --admin-port N        admin HTTP port: /health /ready /metrics /admin/ (TERN_ADMIN_PORT, default 7080)
  --no-admin            no admin HTTP listener     (TERN_NO_ADMIN=1)
  --admin-token T       bearer token of the admin API; the API is off without one (TERN_ADMIN_TOKEN)
  --drain-grace-ms N    on SIGTERM, wait up to this long for in-flight requests and push ACKs
                                                   (TERN_DRAIN_GRACE_MS, default 10000)
  --drain-spread-ms N   goAway.reconnectAfterMs is drawn from 0 to this (TERN_DRAIN_SPREAD_MS, default 10000)
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
      'log-level': { type: 'string' },
      'admin-host': { type: 'string' },
      'admin-port': { type: 'string' },
      'no-admin': { type: 'boolean' },
      'admin-token': { type: 'string' },
      'drain-grace-ms': { type: 'string' },
      'drain-spread-ms': { type: 'string' },
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
  const level = values['log-level'] ?? env.TERN_LOG_LEVEL ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new Error(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  const adminOff = values['no-admin'] || env.TERN_NO_ADMIN === '1';
  const admin = adminOff
    ? undefined
    : {
        host: values['admin-host'] ?? env.TERN_ADMIN_HOST ?? '127.0.0.1',
        port: integer('--admin-port', values['admin-port'] ?? env.TERN_ADMIN_PORT, 7080),
        token: values['admin-token'] ?? (env.TERN_ADMIN_TOKEN || undefined),
      };
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
    logLevel: values.quiet || env.TERN_QUIET === '1' ? 'silent' : (level as LogLevel),
    admin,
    drainGraceMs: integer('--drain-grace-ms', values['drain-grace-ms'] ?? env.TERN_DRAIN_GRACE_MS, 10_000),
    drainSpreadMs: integer('--drain-spread-ms', values['drain-spread-ms'] ?? env.TERN_DRAIN_SPREAD_MS, 10_000),
    store,
  };
}

export const USAGE = HELP;
