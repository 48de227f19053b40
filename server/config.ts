/**
 * Server configuration from flags and environment (flags win). Every option has a default that
 * makes `npm start` run a working node on the embedded store.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_SCRYPT_COST, DEFAULT_SCRYPT_QUEUE } from './logic/passwords.ts';
import { DEFAULT_GROUP_LIMITS, type GroupLimits } from './logic/groups/membership.ts';
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
  /** Password checks waiting for a slot before one more is refused with 5002. */
  readonly scryptQueue: number;
  readonly logLevel: LogLevel;
  /** The admin HTTP listener (/health, /ready, /metrics, /admin/); undefined when off. */
  readonly admin: { readonly host: string; readonly port: number; readonly token: string | undefined } | undefined;
  /** SIGTERM: longest wait for in-flight requests and push ACKs, and the spread of goAway.reconnectAfterMs. */
  readonly drainGraceMs: number;
  readonly drainSpreadMs: number;
  /** The offline-push webhook: POSTed for each message whose receiver has no online device. */
  readonly webhook: { readonly url: string; readonly secret: string; readonly afterSend: boolean } | undefined;
  /** A word list (one per line) masked or rejected in message content; reloaded on SIGHUP. */
  readonly contentFilter: { readonly file: string; readonly policy: 'replace' | 'reject' } | undefined;
  /** The public dispatch listener (GET /dispatch); undefined when off. */
  readonly dispatch: { readonly host: string; readonly port: number } | undefined;
  /** The host clients reach this node at, published to the dispatch board. */
  readonly publicHost: string;
  /** Group limits (SPEC §15, §18): members per group, groups per user, write diffusion and receipts by size. */
  readonly groups: GroupLimits;
  /** --print-config: print the configuration and exit. */
  readonly printConfig: boolean;
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
  --scrypt-queue N      password checks waiting before one more gets 5002 (TERN_SCRYPT_QUEUE, default 16)
  --group-max-members N members per group (TERN_GROUP_MAX_MEMBERS, default 100000)
  --groups-per-user N   groups one user may be in (TERN_GROUPS_PER_USER, default 500)
  --group-write-diffusion-max N
                        groups of at most N members at creation are also written to every
                        member's inbox (TERN_GROUP_WRITE_DIFFUSION_MAX, default 0: none)
  --group-receipts-max N
                        read receipts for groups of at most N members (TERN_GROUP_RECEIPTS_MAX, default 500)
  --log-level L         silent, fatal, error, warn, info, debug or trace (TERN_LOG_LEVEL, default info)
  --quiet               no logs, as --log-level silent (TERN_QUIET=1)
  --admin-host ADDR     admin HTTP listener address (TERN_ADMIN_HOST, default 127.0.0.1)
  --admin-port N        admin HTTP port: /health /ready /metrics /admin/ (TERN_ADMIN_PORT, default 7080)
  --no-admin            no admin HTTP listener     (TERN_NO_ADMIN=1)
  --admin-token T       bearer token of the admin API; the API is off without one (TERN_ADMIN_TOKEN)
  --drain-grace-ms N    on SIGTERM, wait up to this long for in-flight requests and push ACKs
                                                   (TERN_DRAIN_GRACE_MS, default 10000)
  --drain-spread-ms N   goAway.reconnectAfterMs is drawn from 0 to this (TERN_DRAIN_SPREAD_MS, default 10000)
  --webhook-url URL     POST an offline-push event for each message whose receiver has no online device
                                                   (TERN_WEBHOOK_URL, default none)
  --webhook-secret S    HMAC-SHA256 key of the webhook's x-tern-signature (TERN_WEBHOOK_SECRET)
  --webhook-after-send  also POST a messageSent event for each message stored, 1:1 and group
                                                   (TERN_WEBHOOK_AFTER_SEND=1, default off)
  --content-filter FILE words to filter in messages, one per line; SIGHUP reloads it (TERN_CONTENT_FILTER)
  --content-filter-policy P  replace (mask with *) or reject (3003) (TERN_CONTENT_FILTER_POLICY, default replace)
  --dispatch-port N     public listener of GET /dispatch?user=… (TERN_DISPATCH_PORT, default off)
  --dispatch-host ADDR  its address                (TERN_DISPATCH_HOST, default 0.0.0.0)
  --public-host H       the host clients reach this node at, for dispatch
                                                   (TERN_PUBLIC_HOST, default --host, or the host name for 0.0.0.0)
  --config FILE         a JSON file of options, keys as the flags above without "--" (TERN_CONFIG);
                        flags win over the environment, the environment over the file
  --print-config        print the resolved configuration as JSON (the admin token redacted) and exit
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

/** Options that only the command line takes. */
const COMMAND_ONLY = new Set(['help', 'config', 'print-config']);

/**
 * The one schema of every option: its flag, its type and its environment variable. A config file
 * (JSON) uses the flag names as keys. Flags win over the environment, the environment over the
 * file: each source is turned into flags and parsed once, in that order, so the last one wins.
 */
export const OPTIONS = {
  host: { type: 'string', env: 'TERN_HOST' },
  port: { type: 'string', env: 'TERN_PORT' },
  'tls-port': { type: 'string', env: 'TERN_TLS_PORT' },
  'tls-cert': { type: 'string', env: 'TERN_TLS_CERT' },
  'tls-key': { type: 'string', env: 'TERN_TLS_KEY' },
  'data-dir': { type: 'string', env: 'TERN_DATA_DIR' },
  workers: { type: 'string', env: 'TERN_WORKERS' },
  'max-connections': { type: 'string', env: 'TERN_MAX_CONNECTIONS' },
  'scrypt-cost': { type: 'string', env: 'TERN_SCRYPT_COST' },
  'scrypt-queue': { type: 'string', env: 'TERN_SCRYPT_QUEUE' },
  'max-accept-rate': { type: 'string', env: 'TERN_MAX_ACCEPT_RATE' },
  store: { type: 'string', env: 'TERN_STORE' },
  'redis-url': { type: 'string', env: 'TERN_REDIS_URL' },
  cassandra: { type: 'string', env: 'TERN_CASSANDRA' },
  keyspace: { type: 'string', env: 'TERN_KEYSPACE' },
  tenant: { type: 'string', env: 'TERN_TENANT' },
  'key-prefix': { type: 'string', env: 'TERN_KEY_PREFIX' },
  'node-id': { type: 'string', env: 'TERN_NODE_ID' },
  quiet: { type: 'boolean', env: 'TERN_QUIET' },
  'log-level': { type: 'string', env: 'TERN_LOG_LEVEL' },
  'admin-host': { type: 'string', env: 'TERN_ADMIN_HOST' },
  'admin-port': { type: 'string', env: 'TERN_ADMIN_PORT' },
  'no-admin': { type: 'boolean', env: 'TERN_NO_ADMIN' },
  'admin-token': { type: 'string', env: 'TERN_ADMIN_TOKEN' },
  'drain-grace-ms': { type: 'string', env: 'TERN_DRAIN_GRACE_MS' },
  'drain-spread-ms': { type: 'string', env: 'TERN_DRAIN_SPREAD_MS' },
  'webhook-url': { type: 'string', env: 'TERN_WEBHOOK_URL' },
  'webhook-secret': { type: 'string', env: 'TERN_WEBHOOK_SECRET' },
  'webhook-after-send': { type: 'boolean', env: 'TERN_WEBHOOK_AFTER_SEND' },
  'content-filter': { type: 'string', env: 'TERN_CONTENT_FILTER' },
  'content-filter-policy': { type: 'string', env: 'TERN_CONTENT_FILTER_POLICY' },
  'dispatch-host': { type: 'string', env: 'TERN_DISPATCH_HOST' },
  'dispatch-port': { type: 'string', env: 'TERN_DISPATCH_PORT' },
  'public-host': { type: 'string', env: 'TERN_PUBLIC_HOST' },
  'group-max-members': { type: 'string', env: 'TERN_GROUP_MAX_MEMBERS' },
  'groups-per-user': { type: 'string', env: 'TERN_GROUPS_PER_USER' },
  'group-write-diffusion-max': { type: 'string', env: 'TERN_GROUP_WRITE_DIFFUSION_MAX' },
  'group-receipts-max': { type: 'string', env: 'TERN_GROUP_RECEIPTS_MAX' },
  config: { type: 'string', env: 'TERN_CONFIG' },
  'print-config': { type: 'boolean', env: '' },
  help: { type: 'boolean', env: '' },
} as const satisfies Record<string, { type: 'string' | 'boolean'; env: string }>;

type OptionName = keyof typeof OPTIONS;

function parseFlags(args: string[]) {
  return parseArgs({ args, options: OPTIONS, strict: true }).values;
}

/** The environment as flags; a boolean is set by "1" or "true", an empty variable is unset. */
function environmentFlags(env: NodeJS.ProcessEnv): string[] {
  const flags: string[] = [];
  for (const [name, option] of Object.entries(OPTIONS) as [OptionName, (typeof OPTIONS)[OptionName]][]) {
    const value = option.env ? env[option.env] : undefined;
    if (value === undefined || value === '' || COMMAND_ONLY.has(name)) continue;
    if (option.type === 'string') flags.push(`--${name}`, value);
    else if (value === '1' || value === 'true') flags.push(`--${name}`);
  }
  return flags;
}

/** A JSON config file as flags; an unknown key or a value of the wrong type fails, naming the key. */
export function fileFlags(path: string, text: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`config file ${path}: not JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`config file ${path}: must be a JSON object`);
  const flags: string[] = [];
  for (const [key, value] of Object.entries(parsed)) {
    const option = (OPTIONS as Record<string, { type: 'string' | 'boolean' }>)[key];
    if (!option || COMMAND_ONLY.has(key)) throw new Error(`config file ${path}: unknown key "${key}"`);
    if (option.type === 'boolean') {
      if (typeof value !== 'boolean') throw new Error(`config file ${path}: "${key}" must be true or false`);
      if (value) flags.push(`--${key}`);
    } else if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) flags.push(`--${key}`, String(value));
    else throw new Error(`config file ${path}: "${key}" must be a string or a number`);
  }
  return flags;
}

function webhook(url: string | undefined, secret: string | undefined, afterSend: boolean): ServerConfig['webhook'] {
  if (url === undefined) {
    if (afterSend) throw new Error('--webhook-after-send needs --webhook-url (TERN_WEBHOOK_URL) to post its events to');
    return undefined;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--webhook-url must be an http(s) URL, got "${url}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`--webhook-url must be an http(s) URL, got "${url}"`);
  // Unsigned events could be forged by anyone who can reach the receiver.
  if (!secret) throw new Error('--webhook-url needs --webhook-secret (TERN_WEBHOOK_SECRET) to sign its events');
  return { url, secret, afterSend };
}

/** A bind address that is every interface says nothing about where clients reach the node. */
function publicHostOf(host: string): string {
  return host === '0.0.0.0' || host === '::' ? hostname() : host;
}

function contentFilter(file: string | undefined, policy: string): ServerConfig['contentFilter'] {
  if (policy !== 'replace' && policy !== 'reject') throw new Error(`--content-filter-policy must be replace or reject, got "${policy}"`);
  return file === undefined ? undefined : { file, policy };
}

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv, readFile: (path: string) => string = (path) => readFileSync(path, 'utf8')): ServerConfig | 'help' {
  const command = parseFlags(argv);
  if (command.help) return 'help';
  const file = command.config ?? (env.TERN_CONFIG || undefined);
  const fromFile = file === undefined ? [] : fileFlags(file, readFile(file));
  const values = parseFlags([...fromFile, ...environmentFlags(env), ...argv]);
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
    scryptQueue: integer('--scrypt-queue', values['scrypt-queue'], DEFAULT_SCRYPT_QUEUE),
    logLevel: values.quiet || env.TERN_QUIET === '1' ? 'silent' : (level as LogLevel),
    admin,
    drainGraceMs: integer('--drain-grace-ms', values['drain-grace-ms'] ?? env.TERN_DRAIN_GRACE_MS, 10_000),
    drainSpreadMs: integer('--drain-spread-ms', values['drain-spread-ms'] ?? env.TERN_DRAIN_SPREAD_MS, 10_000),
    printConfig: values['print-config'] === true,
    webhook: webhook(values['webhook-url'], values['webhook-secret'], values['webhook-after-send'] === true),
    contentFilter: contentFilter(values['content-filter'], values['content-filter-policy'] ?? 'replace'),
    dispatch:
      values['dispatch-port'] === undefined ? undefined : { host: values['dispatch-host'] ?? '0.0.0.0', port: integer('--dispatch-port', values['dispatch-port'], 0) },
    publicHost: values['public-host'] ?? publicHostOf(values.host ?? '0.0.0.0'),
    groups: {
      maxMembers: integer('--group-max-members', values['group-max-members'], DEFAULT_GROUP_LIMITS.maxMembers),
      maxGroupsPerUser: integer('--groups-per-user', values['groups-per-user'], DEFAULT_GROUP_LIMITS.maxGroupsPerUser),
      writeDiffusionMaxMembers: integer('--group-write-diffusion-max', values['group-write-diffusion-max'], DEFAULT_GROUP_LIMITS.writeDiffusionMaxMembers),
      receiptsMaxMembers: integer('--group-receipts-max', values['group-receipts-max'], DEFAULT_GROUP_LIMITS.receiptsMaxMembers),
    },
    store,
  };
}

export const USAGE = HELP;

/** The resolved configuration as `--print-config` shows it: every value, the secret redacted. */
export function describeConfig(config: ServerConfig): string {
  const admin = config.admin ? { ...config.admin, token: config.admin.token === undefined ? undefined : '[redacted]' } : undefined;
  const webhook = config.webhook ? { ...config.webhook, secret: '[redacted]' } : undefined;
  return `${JSON.stringify({ ...config, admin, webhook }, null, 2)}\n`;
}
