/** One server node in one process: store, logic and gateway, wired through the seam. */
import type { TlsOptions } from 'node:tls';
import type { Stores } from '../storage/ports.ts';
import { defaultGatewayConfig, type GatewayConfig } from './gateway/config.ts';
import { Gateway, type Logger } from './gateway/gateway.ts';
import { systemClock, type Clock } from './logic/clock.ts';
import { DEFAULT_TOKEN_TTL_MS } from './logic/auth.ts';
import { Logic, type LogicOptions, type OfflineHook } from './logic/logic.ts';
import { DEFAULT_SCRYPT_COST } from './logic/passwords.ts';
import { openStores, type ProductionStoreConfig } from './stores.ts';

export interface NodeOptions {
  readonly dataDir: string;
  /** Redis + Cassandra shared with other nodes instead of the embedded store in dataDir. */
  readonly production?: ProductionStoreConfig;
  readonly host: string;
  readonly port: number;
  readonly tls?: { readonly port: number; readonly options: TlsOptions };
  readonly gateway?: Partial<GatewayConfig>;
  /** scrypt N; lower only in tests. */
  readonly scryptCost?: number;
  readonly tokenTtlMs?: number;
  /** Inbox entries kept per user. */
  readonly inboxMaxEntries?: number;
  /** Wraps the opened stores, e.g. with deliberate faults in tests of the load generator's checker. */
  readonly decorateStores?: (stores: Stores) => Stores;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Told of each message whose receiver has no online device. */
  readonly offline?: OfflineHook;
  readonly contentFilter?: LogicOptions['contentFilter'];
}

export interface RunningNode {
  readonly port: number;
  readonly tlsPort: number | undefined;
  readonly gateway: Gateway;
  readonly logic: Logic;
  readonly stores: Stores;
  close(): Promise<void>;
}

export const quietLogger: Logger = () => {};

/** A callback that logs an unexpected error under `event`, with its stack. */
export function errorReporter(logger: Logger, event: string): (error: unknown) => void {
  return (error) => logger(event, { error: String((error as Error)?.stack ?? error) });
}

export async function startNode(options: NodeOptions): Promise<RunningNode> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? quietLogger;
  const inbox = options.inboxMaxEntries ? { inboxMaxEntries: options.inboxMaxEntries } : {};
  const opened = await openStores(
    options.production ? { ...options.production, ...inbox } : { kind: 'embedded', dataDir: options.dataDir, ...inbox },
    errorReporter(logger, 'routing-error'),
  );
  const { routing } = opened;
  const stores = options.decorateStores ? options.decorateStores(opened.stores) : opened.stores;
  const logic = new Logic(stores, clock, {
    routing,
    ...(options.offline ? { offline: options.offline } : {}),
    ...(options.contentFilter ? { contentFilter: options.contentFilter } : {}),
    auth: { passwords: { cost: options.scryptCost ?? DEFAULT_SCRYPT_COST }, tokenTtlMs: options.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS },
  });
  const config: GatewayConfig = { ...defaultGatewayConfig, ...options.gateway };
  const gateway = new Gateway(config, clock, logic, String(process.pid), logger);
  logic.attachGateway(gateway);
  const { port, tlsPort } = await gateway.listen({ host: options.host, port: options.port, ...(options.tls ? { tls: options.tls } : {}) });
  return {
    port,
    tlsPort,
    gateway,
    logic,
    stores,
    async close() {
      await gateway.close();
      await opened.close();
    },
  };
}
