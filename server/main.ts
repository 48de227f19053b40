#!/usr/bin/env node
/**
 * Entry point. With one worker everything runs in this process. With more, this process is the
 * logic (and owns the embedded store) and forks gateway workers that share the listening ports;
 * they talk to the logic through the seam over IPC.
 */
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { LogicClient } from './cluster/logic-client.ts';
import { LogicHost } from './cluster/logic-host.ts';
import type { WorkerToLogic } from './cluster/messages.ts';
import { parseConfig, USAGE, type ServerConfig } from './config.ts';
import { defaultGatewayConfig, type GatewayConfig } from './gateway/config.ts';
import { Gateway, type Logger } from './gateway/gateway.ts';
import { systemClock } from './logic/clock.ts';
import { Logic } from './logic/logic.ts';
import { errorReporter, jsonLogger, quietLogger, startNode } from './node.ts';
import { DEFAULT_TOKEN_TTL_MS } from './logic/auth.ts';
import { openStores } from './stores.ts';

function loggerFor(config: ServerConfig): Logger {
  return config.logLevel === 'quiet' ? quietLogger : jsonLogger();
}

/** What the flags change in a gateway's configuration. */
function gatewayOverrides(config: ServerConfig): Partial<GatewayConfig> {
  return { maxConnections: config.maxConnectionsPerWorker, maxAcceptsPerSecond: config.maxAcceptsPerSecond };
}

function tlsOptions(config: ServerConfig) {
  if (!config.tlsCert || !config.tlsKey) return undefined;
  return { port: config.tlsPort, options: { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } };
}

function describe(config: ServerConfig, port: number, tlsPort: number | undefined): string {
  const tls = tlsPort === undefined ? 'TLS off (give --tls-cert and --tls-key)' : `TLS on ${config.host}:${tlsPort}`;
  const store = config.store.kind === 'embedded' ? `data in ${config.dataDir}` : `store Redis ${config.store.redisUrl} + Cassandra ${config.store.cassandra.join(',')}`;
  return `tern listening on tcp ${config.host}:${port}, ${tls}; ${store}; ${config.workers} worker(s)`;
}

async function runSingle(config: ServerConfig): Promise<void> {
  const logger = loggerFor(config);
  const tls = tlsOptions(config);
  const node = await startNode({
    dataDir: config.dataDir,
    ...(config.store.kind === 'production' ? { production: config.store } : {}),
    host: config.host,
    port: config.port,
    scryptCost: config.scryptCost,
    logger,
    gateway: gatewayOverrides(config),
    ...(tls ? { tls } : {}),
  });
  console.log(describe(config, node.port, node.tlsPort));
  onSignals(async () => {
    node.gateway.drain(1_000);
    await node.close();
  });
}

async function runLogicProcess(config: ServerConfig): Promise<void> {
  const logger = loggerFor(config);
  const opened = await openStores(config.store, errorReporter(logger, 'routing-error'));
  const logic = new Logic(opened.stores, systemClock, { auth: { passwords: { cost: config.scryptCost }, tokenTtlMs: DEFAULT_TOKEN_TTL_MS }, routing: opened.routing });
  const host = new LogicHost(logic, errorReporter(logger, 'internal-error'));
  logic.attachGateway(host);
  cluster.setupPrimary({ serialization: 'advanced' });
  let listening = 0;
  for (let i = 0; i < config.workers; i++) {
    const worker = cluster.fork();
    host.attach(worker);
    worker.on('message', (message: WorkerToLogic) => {
      if (message.kind === 'listening' && ++listening === config.workers) console.log(describe(config, message.port, message.tlsPort));
    });
  }
  cluster.on('exit', (worker, code) => logger('worker-exit', { worker: worker.id, code }));
  onSignals(async () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGTERM');
    await opened.close();
  });
}

async function runGatewayWorker(config: ServerConfig): Promise<void> {
  const logger = loggerFor(config);
  const logic = new LogicClient(process as NodeJS.Process & { send(message: unknown): boolean });
  const gateway = new Gateway({ ...defaultGatewayConfig, ...gatewayOverrides(config) }, systemClock, logic, String(cluster.worker?.id ?? process.pid), logger);
  logic.attachGateway(gateway);
  const tls = tlsOptions(config);
  const { port, tlsPort } = await gateway.listen({ host: config.host, port: config.port, ...(tls ? { tls } : {}) });
  const listening: WorkerToLogic = { kind: 'listening', port, tlsPort };
  process.send?.(listening);
  onSignals(async () => {
    gateway.drain(1_000);
    await gateway.close();
  });
}

function onSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = () => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

async function main(): Promise<void> {
  const config = parseConfig(process.argv.slice(2), process.env);
  if (config === 'help') {
    process.stdout.write(USAGE);
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
