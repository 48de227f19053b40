/** One server node in one process: store, logic and gateway, wired through the seam. */
import type { TlsOptions } from 'node:tls';
import type { Stores } from '../storage/ports.ts';
import { defaultGatewayConfig, type GatewayConfig } from './gateway/config.ts';
import { Gateway, type GatewayRoomOptions, type Logger } from './gateway/gateway.ts';
import type { RoomOptions } from './logic/rooms/rooms.ts';
import { systemClock, type Clock } from './logic/clock.ts';
import { DEFAULT_TOKEN_TTL_MS } from './logic/auth.ts';
import { Logic, type LogicOptions, type OfflineHook } from './logic/logic.ts';
import type { SendQuotaPolicy } from './logic/send-quota.ts';
import { PAGE_ENVELOPE_BYTES, pageBudgetFor } from './logic/page-budget.ts';
import { HEADER_SIZE } from '../protocol/header.ts';
import { Limits } from '../protocol/timers.ts';
import type { GroupLimits } from './logic/groups/membership.ts';
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
  /** scrypt derivations at once and waiting (PasswordPolicy); defaults in passwords.ts. */
  readonly scryptQueue?: { readonly concurrency?: number; readonly queueLimit?: number };
  readonly tokenTtlMs?: number;
  /** Inbox entries kept per user. */
  readonly inboxMaxEntries?: number;
  /** Wraps the opened stores, e.g. with deliberate faults in tests of the load generator's checker. */
  readonly decorateStores?: (stores: Stores) => Stores;
  readonly clock?: Clock;
  /** Room limits (tests raise the send rate) and the gateway's batching schedule and fan-out (the bench's baseline). */
  readonly rooms?: Partial<RoomOptions>;
  readonly gatewayRooms?: GatewayRoomOptions;
  readonly logger?: Logger;
  /** Body bytes per page (sync, history, conversation lists); default Limits.pageBudgetBytes. */
  readonly pageBudgetBytes?: number;
  /** Per-user send quota; default DEFAULT_SEND_QUOTA. */
  readonly sendQuota?: SendQuotaPolicy;
  readonly groups?: GroupLimits;
  /** Told of each message whose receiver has no online device. */
  readonly offline?: OfflineHook;
  /** Told of each message stored, 1:1 and group posts. */
  readonly afterSend?: LogicOptions['afterSend'];
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

/**
 * Every entry must fit a frame alone, or a sync could never get past it: an entry is a request's
 * content plus ids the server adds, so the frame must hold a request and a page's envelope.
 */
export function checkFrameLimits(config: GatewayConfig): void {
  const needed = HEADER_SIZE + config.maxRequestSize + 2 * PAGE_ENVELOPE_BYTES;
  if (config.maxFrameSize < needed) throw new Error(`maxFrameSize ${config.maxFrameSize} is below ${needed}: the largest entry would not fit a frame`);
}

export async function startNode(options: NodeOptions): Promise<RunningNode> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? quietLogger;
  const inbox = options.inboxMaxEntries ? { inboxMaxEntries: options.inboxMaxEntries } : {};
  const opened = await openStores(
    options.production ? { ...options.production, ...inbox } : { kind: 'embedded', dataDir: options.dataDir, ...inbox },
    errorReporter(logger, 'routing-error'),
  );
  const { routing, roomBroadcast } = opened;
  const stores = options.decorateStores ? options.decorateStores(opened.stores) : opened.stores;
  const config: GatewayConfig = { ...defaultGatewayConfig, ...options.gateway };
  checkFrameLimits(config);
  const logic = new Logic(stores, clock, {
    routing,
    roomBroadcast,
    ...(options.rooms ? { rooms: options.rooms } : {}),
    pageBudget: pageBudgetFor(config.maxFrameSize, options.pageBudgetBytes ?? Limits.pageBudgetBytes),
    ...(options.sendQuota ? { sendQuota: options.sendQuota } : {}),
    ...(options.groups ? { groups: options.groups } : {}),
    ...(options.offline ? { offline: options.offline } : {}),
    ...(options.afterSend ? { afterSend: options.afterSend } : {}),
    ...(options.contentFilter ? { contentFilter: options.contentFilter } : {}),
    auth: { passwords: { cost: options.scryptCost ?? DEFAULT_SCRYPT_COST, ...options.scryptQueue }, tokenTtlMs: options.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS },
  });
  const gateway = new Gateway(config, clock, logic, String(process.pid), logger, options.gatewayRooms);
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
