#!/usr/bin/env node
/**
 * Entry point. With one worker everything runs in this process. With more, this process is the
 * logic (and owns the embedded store) and forks gateway workers that share the listening ports;
 * they talk to the logic through the seam over IPC. The admin HTTP listener (server/ops/) runs
 * in this process in both cases.
 */
import cluster from 'node:cluster';
import type { BodyOf } from '../protocol/bodies.ts';
import { readFileSync, watchFile } from 'node:fs';
import { LogicClient } from './cluster/logic-client.ts';
import { LogicHost } from './cluster/logic-host.ts';
import type { LogicToWorker, WorkerToLogic } from './cluster/messages.ts';
import { Supervisor } from './cluster/supervisor.ts';
import { describeConfig, parseConfig, USAGE, type ServerConfig } from './config.ts';
import { defaultGatewayConfig, type GatewayConfig } from './gateway/config.ts';
import { Gateway, type Logger } from './gateway/gateway.ts';
import { systemClock } from './logic/clock.ts';
import { Logic } from './logic/logic.ts';
import { errorReporter, startNode, type RunningNode } from './node.ts';
import { DEFAULT_TOKEN_TTL_MS } from './logic/auth.ts';
import { AdminHttp, type AdminOperations } from './ops/admin-http.ts';
import { timeCommits } from './ops/commit-timing.ts';
import { pinoLogger, type FlushableLogger } from './ops/log.ts';
import { LoopLagMonitor } from './ops/loop-lag.ts';
import { Metrics, type MetricsSource } from './ops/metrics.ts';
import { readiness } from './ops/readiness.ts';
import { ContentFilter, parseWordList } from './logic/content-filter/content-filter.ts';
import { defaultWebhookOptions, Webhook } from './ops/webhook.ts';
import { openStores } from './stores.ts';
import { startDispatch, type RunningDispatch } from './dispatch/start.ts';
import type { Stores } from '../storage/ports.ts';

/** Worker replacements allowed per minute before a crash loop is assumed (Supervisor). */
const MAX_RESTARTS_PER_MINUTE = 10;
/** How often the content filter's word list is checked for changes. */
const CONTENT_FILTER_POLL_MS = 1_000;
/** Workers still running this long after the drain's grace period are killed. */
const DRAIN_KILL_MARGIN_MS = 5_000;

/** The content filter of the config, loaded now and reloaded from its file on SIGHUP and when it changes. */
function contentFilterFor(config: ServerConfig, logger: Logger): ContentFilter | undefined {
  if (!config.contentFilter) return undefined;
  const { file, policy } = config.contentFilter;
  const filter = new ContentFilter(policy, parseWordList(readFileSync(file, 'utf8')));
  const reload = (cause: string) => {
    try {
      filter.reload(parseWordList(readFileSync(file, 'utf8')));
      logger('content-filter-reloaded', { file, words: filter.words, cause });
    } catch (error) {
      // Policy: keep the list in force; a broken file must not turn the filter off.
      logger('content-filter-error', { file, error: (error as Error).message });
    }
  };
  process.on('SIGHUP', () => reload('SIGHUP'));
  // Polling the file's stat survives editors that replace the file by a rename, which fs.watch does not.
  watchFile(file, { interval: CONTENT_FILTER_POLL_MS, persistent: false }, (now, before) => {
    if (now.mtimeMs !== before.mtimeMs || now.size !== before.size) reload('changed');
  });
  return filter;
}

function webhookFor(config: ServerConfig, logger: Logger): Webhook | undefined {
  if (!config.webhook) return undefined;
  return new Webhook({ ...defaultWebhookOptions, ...config.webhook, clock: systemClock, onError: errorReporter(logger, 'webhook-error') });
}

/** What the flags change in a gateway's configuration. */
function gatewayOverrides(config: ServerConfig): Partial<GatewayConfig> {
  return { maxConnections: config.maxConnectionsPerWorker, maxAcceptsPerSecond: config.maxAcceptsPerSecond };
}

function tlsOptions(config: ServerConfig) {
  if (!config.tlsCert || !config.tlsKey) return undefined;
  return { port: config.tlsPort, options: { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } };
}

function describe(config: ServerConfig, port: number, tlsPort: number | undefined, adminPort: number | undefined, dispatchPort?: number): string {
  const tls = tlsPort === undefined ? 'TLS off (give --tls-cert and --tls-key)' : `TLS on ${config.host}:${tlsPort}`;
  const store = config.store.kind === 'embedded' ? `data in ${config.dataDir}` : `store Redis ${config.store.redisUrl} + Cassandra ${config.store.cassandra.join(',')}`;
  const admin = adminPort === undefined ? 'admin off' : `admin http://${config.admin?.host}:${adminPort}`;
  const dispatch = dispatchPort === undefined ? '' : `; dispatch http://${config.dispatch?.host}:${dispatchPort}/dispatch`;
  return `tern listening on tcp ${config.host}:${port}, ${tls}; ${store}; ${config.workers} worker(s); ${admin}${dispatch}`;
}

interface Ops {
  readonly metrics: Metrics;
  start(admin: AdminOperations, stores: Pick<Stores, 'accounts' | 'inbox'>, draining: () => boolean): Promise<number | undefined>;
  close(): Promise<void>;
}

/** The metrics registry at once (the stores' commit timing needs it), the HTTP listener once the node is up. */
function ops(config: ServerConfig, logger: Logger, source: MetricsSource): Ops {
  const metrics = new Metrics(source);
  let http: AdminHttp | undefined;
  return {
    metrics,
    async start(admin, stores, draining) {
      if (!config.admin) return undefined;
      const { host, port, token } = config.admin;
      http = new AdminHttp({ host, port, token, metrics, admin, readiness: () => readiness(stores, draining), onError: errorReporter(logger, 'admin-error') });
      return http.listen();
    },
    close: () => http?.close() ?? Promise.resolve(),
  };
}

async function runSingle(config: ServerConfig): Promise<void> {
  const logger = pinoLogger(config.logLevel);
  const lag = new LoopLagMonitor();
  // The registry exists before the node (the stores' commit timing feeds it); it reads the node once up.
  const live: { node?: RunningNode } = {};
  const webhook = webhookFor(config, logger);
  const contentFilter = contentFilterFor(config, logger);
  const admin = ops(config, logger, {
    processLabel: 'main',
    ...(webhook ? { webhook: () => webhook.stats } : {}),
    workers: async () => (live.node ? [{ worker: '0', gateway: live.node.gateway.snapshot() }] : []),
    online: () => live.node?.logic.admin.online() ?? { users: 0, sessions: 0 },
    loopLag: () => lag.read(),
  });
  const tls = tlsOptions(config);
  const running = await startNode({
    dataDir: config.dataDir,
    ...(config.store.kind === 'production' ? { production: config.store } : {}),
    host: config.host,
    port: config.port,
    scryptCost: config.scryptCost,
    scryptQueue: { queueLimit: config.scryptQueue },
    groups: config.groups,
    logger,
    gateway: gatewayOverrides(config),
    decorateStores: (stores) => timeCommits(stores, (seconds) => admin.metrics.commitSeconds.observe(seconds)),
    ...(webhook ? { offline: (event) => webhook.offlineMessage(event) } : {}),
    ...(webhook && config.webhook?.afterSend ? { afterSend: (message) => webhook.messageSent(message) } : {}),
    ...(contentFilter ? { contentFilter } : {}),
    ...(tls ? { tls } : {}),
  });
  live.node = running;
  await running.logic.admin.reserveSystemUser();
  const adminPort = await admin.start(running.logic.admin, running.stores, () => running.gateway.draining);
  const dispatch = await startDispatch(config, logger, running.logic.routing, running, async () => ({ connections: running.gateway.size, accepted: running.gateway.stats.accepted }));
  console.log(describe(config, running.port, running.tlsPort, adminPort, dispatch?.port));
  onSignals(logger, async () => {
    // Off the board first: no client is sent to a node that is going away; its clients go to the others.
    const alternatives = (await dispatch?.alternatives()) ?? [];
    await dispatch?.close();
    await running.gateway.drain({ graceMs: config.drainGraceMs, spreadMs: config.drainSpreadMs, alternatives });
    await admin.close();
    await running.close();
    webhook?.close();
    lag.stop();
  });
}

async function runLogicProcess(config: ServerConfig): Promise<void> {
  const logger = pinoLogger(config.logLevel, 2, { role: 'logic' });
  const lag = new LoopLagMonitor();
  let draining = false;
  const live: { host?: LogicHost; logic?: Logic } = {};
  const webhook = webhookFor(config, logger);
  const contentFilter = contentFilterFor(config, logger);
  const admin = ops(config, logger, {
    processLabel: 'logic',
    ...(webhook ? { webhook: () => webhook.stats } : {}),
    workers: () => live.host?.snapshots(1_000) ?? Promise.resolve([]),
    online: () => live.logic?.admin.online() ?? { users: 0, sessions: 0 },
    loopLag: () => lag.read(),
  });
  const opened = await openStores(config.store, errorReporter(logger, 'routing-error'));
  const stores = timeCommits(opened.stores, (seconds) => admin.metrics.commitSeconds.observe(seconds));
  const logic = new Logic(stores, systemClock, {
    auth: { passwords: { cost: config.scryptCost, queueLimit: config.scryptQueue }, tokenTtlMs: DEFAULT_TOKEN_TTL_MS },
    routing: opened.routing,
    roomBroadcast: opened.roomBroadcast,
    groups: config.groups,
    ...(webhook ? { offline: (event) => webhook.offlineMessage(event) } : {}),
    ...(webhook && config.webhook?.afterSend ? { afterSend: (message) => webhook.messageSent(message) } : {}),
    ...(contentFilter ? { contentFilter } : {}),
  });
  const logicHost = new LogicHost(logic, errorReporter(logger, 'internal-error'));
  Object.assign(live, { host: logicHost, logic });
  logic.attachGateway(logicHost);
  await logic.admin.reserveSystemUser();
  const adminPort = await admin.start(logic.admin, stores, () => draining);
  cluster.setupPrimary({ serialization: 'advanced' });
  let listening = 0;
  const dispatch: { running?: RunningDispatch } = {};
  // Every worker listens: the node is up, and its bound ports are known for the dispatch board.
  const up = async (port: number, tlsPort: number | undefined) => {
    const load = async () => {
      const workers = await logicHost.snapshots(1_000);
      return { connections: workers.reduce((n, w) => n + w.gateway.stats.connections, 0), accepted: workers.reduce((n, w) => n + w.gateway.stats.accepted, 0) };
    };
    dispatch.running = await startDispatch(config, logger, opened.routing, { port, tlsPort }, load);
    console.log(describe(config, port, tlsPort, adminPort, dispatch.running?.port));
  };
  const supervisor = new Supervisor({
    count: config.workers,
    clock: systemClock,
    logger,
    maxRestarts: MAX_RESTARTS_PER_MINUTE,
    windowMs: 60_000,
    fork: () => {
      const worker = cluster.fork();
      logicHost.attach(worker);
      worker.on('message', (message: WorkerToLogic) => {
        if (message.kind !== 'listening') return;
        if (++listening === config.workers) up(message.port, message.tlsPort).catch(errorReporter(logger, 'internal-error'));
        else if (listening > config.workers) logger('worker-listening', { worker: worker.id, pid: worker.process.pid });
      });
      return worker;
    },
  });
  supervisor.start();
  onSignals(logger, async () => {
    draining = true;
    logger('drain', { workers: supervisor.workers.length, graceMs: config.drainGraceMs });
    const alternatives = (await dispatch.running?.alternatives()) ?? [];
    await dispatch.running?.close();
    const drain: LogicToWorker = { kind: 'drain', alternatives };
    await supervisor.stop((worker) => worker.isConnected() && worker.send(drain), config.drainGraceMs + DRAIN_KILL_MARGIN_MS);
    await admin.close();
    await opened.close();
    webhook?.close();
    lag.stop();
  });
}

async function runGatewayWorker(config: ServerConfig): Promise<void> {
  const workerId = String(cluster.worker?.id ?? process.pid);
  const logger = pinoLogger(config.logLevel, 2, { role: 'gateway', worker: workerId });
  const lag = new LoopLagMonitor();
  // The content filter is reloaded by the logic process; a SIGHUP sent to the whole group must not end a worker.
  process.on('SIGHUP', () => undefined);
  const channel = process as NodeJS.Process & { send(message: unknown): boolean };
  const logic = new LogicClient(channel);
  const gateway = new Gateway({ ...defaultGatewayConfig, ...gatewayOverrides(config) }, systemClock, logic, workerId, logger);
  logic.attachGateway(gateway);
  let alternatives: BodyOf<'goAway'>['alternatives'] = [];
  const drain = onSignals(logger, async () => {
    await gateway.drain({ graceMs: config.drainGraceMs, spreadMs: config.drainSpreadMs, alternatives });
    await gateway.close();
  });
  process.on('message', (message: LogicToWorker) => {
    if (message.kind === 'drain') {
      alternatives = message.alternatives;
      return drain('drain');
    }
    if (message.kind !== 'snapshotRequest') return;
    const reply: WorkerToLogic = { kind: 'snapshot', id: message.id, value: { gateway: gateway.snapshot(), loopLag: lag.read() } };
    channel.send(reply);
  });
  const tls = tlsOptions(config);
  const { port, tlsPort } = await gateway.listen({ host: config.host, port: config.port, ...(tls ? { tls } : {}) });
  const listening: WorkerToLogic = { kind: 'listening', port, tlsPort };
  process.send?.(listening);
}

/** Runs `stop` once, on SIGINT, SIGTERM or a call of the returned function, then exits. */
function onSignals(logger: FlushableLogger, stop: () => Promise<void>): (cause: string) => void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger('stopping', { signal });
    stop().then(
      () => {
        logger('stopped', {});
        logger.flush();
        process.exit(0);
      },
      (error: unknown) => {
        logger('internal-error', { error: String((error as Error)?.stack ?? error) });
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return handler;
}

async function main(): Promise<void> {
  const config = parseConfig(process.argv.slice(2), process.env);
  if (config === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (config.printConfig) {
    process.stdout.write(describeConfig(config));
    return;
  }
  if (config.workers <= 1) return runSingle(config);
  if (cluster.isPrimary) return runLogicProcess(config);
  return runGatewayWorker(config);
}

main().catch((error: unknown) => {
  console.error(`tern: ${(error as Error).message}`);
  process.exit(1);
});
