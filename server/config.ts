/**
 * Server configuration from flags and environment (flags win). Every option has a default that
 * makes `npm start` run a working node on the embedded store.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';

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
}

const HELP = `Usage: npm start -- [options]

  --host ADDR           listen address             (TERN_HOST, default 0.0.0.0)
  --port N              TCP port                   (TERN_PORT, default 7000)
  --tls-port N          TLS port                   (TERN_TLS_PORT, default 7443)
  --tls-cert FILE       PEM certificate; TLS is on when cert and key are given (TERN_TLS_CERT)
  --tls-key FILE        PEM private key            (TERN_TLS_KEY)
  --data-dir DIR        embedded store directory   (TERN_DATA_DIR, default ./var/data)
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
      quiet: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  return {
    host: values.host ?? env.TERN_HOST ?? '0.0.0.0',
    port: integer('--port', values.port ?? env.TERN_PORT, 7000),
    tlsPort: integer('--tls-port', values['tls-port'] ?? env.TERN_TLS_PORT, 7443),
    tlsCert: values['tls-cert'] ?? env.TERN_TLS_CERT,
    tlsKey: values['tls-key'] ?? env.TERN_TLS_KEY,
    dataDir: values['data-dir'] ?? env.TERN_DATA_DIR ?? 'var/data',
    workers: integer('--workers', values.workers ?? env.TERN_WORKERS, availableParallelism()),
    maxConnectionsPerWorker: integer('--max-connections', values['max-connections'] ?? env.TERN_MAX_CONNECTIONS, 19_000),
    maxAcceptsPerSecond: integer('--max-accept-rate', values['max-accept-rate'] ?? env.TERN_MAX_ACCEPT_RATE, 5_000),
    scryptCost: powerOfTwo('--scrypt-cost', integer('--scrypt-cost', values['scrypt-cost'] ?? env.TERN_SCRYPT_COST, 2 ** 15)),
    logLevel: values.quiet || env.TERN_QUIET === '1' ? 'quiet' : 'info',
  };
}

export const USAGE = HELP;
