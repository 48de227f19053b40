/**
 * The /metrics endpoint's registry. The hot path only increments plain numbers (GatewayStats);
 * at each scrape the gateways are read once (in-process, or through the primary from every worker
 * over IPC) and prom-client renders the values, each labelled with the worker that owns it.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { GatewaySnapshot } from '../gateway/gateway.ts';
import type { LoopLag } from './loop-lag.ts';
import type { WebhookStats } from './webhook.ts';

/** One gateway's figures at a scrape; `loopLag` for gateway processes other than this one. */
export interface WorkerMetrics {
  readonly worker: string;
  readonly gateway: GatewaySnapshot;
  readonly loopLag?: LoopLag;
}

export interface MetricsSource {
  workers(): Promise<readonly WorkerMetrics[]>;
  online(): { users: number; sessions: number };
  /** Event-loop lag of the process serving /metrics (the logic in cluster mode). */
  loopLag(): LoopLag;
  readonly processLabel: string;
  /** The offline-push webhook's counters, when one is configured. */
  readonly webhook?: () => WebhookStats;
}

type Read = (worker: WorkerMetrics) => number;

const COUNTERS: ReadonlyArray<readonly [string, string, Read]> = [
  ['tern_connections_accepted_total', 'Connections accepted.', (w) => w.gateway.stats.accepted],
  ['tern_connections_rejected_total', 'Connections refused by admission control or failed TLS handshakes.', (w) => w.gateway.stats.rejected],
  ['tern_logins_total', 'Successful register and login requests.', (w) => w.gateway.stats.logins],
  ['tern_frames_in_total', 'Frames received from clients.', (w) => w.gateway.stats.framesIn],
  ['tern_frames_out_total', 'Frames written to clients (replies, pushes and retransmissions).', (w) => w.gateway.stats.frames],
  ['tern_messages_in_total', 'send requests acknowledged (the message is stored).', (w) => w.gateway.stats.messagesIn],
  ['tern_pushes_total', 'Inbox entries pushed to connections (first sends).', (w) => w.gateway.stats.pushes],
  ['tern_push_retransmits_total', 'Pushes resent with their SID for want of an ACK.', (w) => w.gateway.stats.retransmits],
  ['tern_slow_consumer_closes_total', 'Connections closed because their outbound buffer or push queue was full.', (w) => w.gateway.stats.closed.slowConsumer ?? 0],
  ['tern_sync_pages_total', 'syncPage replies sent.', (w) => w.gateway.stats.syncPages],
  ['tern_sync_bytes_total', 'Bytes of syncPage frames sent.', (w) => w.gateway.stats.syncBytes],
];

const GAUGES: ReadonlyArray<readonly [string, string, Read]> = [
  ['tern_push_window_in_flight', 'Pushes sent and not yet acknowledged, over all connections.', (w) => w.gateway.pushesInFlight],
  ['tern_push_queue_depth', 'Pushes waiting for room in a push window, over all connections.', (w) => w.gateway.pushesQueued],
  ['tern_draining', '1 while the gateway drains.', (w) => (w.gateway.draining ? 1 : 0)],
];

/** Store commit latency buckets, seconds: a group commit on LMDB takes ~1 ms, Cassandra ~5 ms. */
const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class Metrics {
  readonly registry = new Registry();
  readonly commitSeconds: Histogram;
  private current: readonly WorkerMetrics[] = [];

  constructor(private readonly source: MetricsSource) {
    const registry = this.registry;
    const read = () => this.current;
    for (const [name, help, value] of COUNTERS) {
      new Counter({
        name,
        help,
        labelNames: ['worker'],
        registers: [registry],
        collect() {
          this.reset();
          for (const w of read()) this.inc({ worker: w.worker }, value(w));
        },
      });
    }
    for (const [name, help, value] of GAUGES) {
      new Gauge({
        name,
        help,
        labelNames: ['worker'],
        registers: [registry],
        collect() {
          this.reset();
          for (const w of read()) this.set({ worker: w.worker }, value(w));
        },
      });
    }
    new Gauge({
      name: 'tern_connections',
      help: 'Open connections by transport and state.',
      labelNames: ['worker', 'transport', 'state'],
      registers: [registry],
      collect() {
        this.reset();
        for (const w of read()) {
          for (const [transport, byState] of Object.entries(w.gateway.connections)) {
            for (const [state, n] of Object.entries(byState)) this.set({ worker: w.worker, transport, state }, n);
          }
        }
      },
    });
    new Counter({
      name: 'tern_connections_closed_total',
      help: 'Connections closed, by reason.',
      labelNames: ['worker', 'reason'],
      registers: [registry],
      collect() {
        this.reset();
        for (const w of read()) for (const [reason, n] of Object.entries(w.gateway.stats.closed)) this.inc({ worker: w.worker, reason }, n);
      },
    });
    new Counter({
      name: 'tern_login_failures_total',
      help: 'Failed register and login requests, by error code.',
      labelNames: ['worker', 'code'],
      registers: [registry],
      collect() {
        this.reset();
        for (const w of read()) for (const [code, n] of Object.entries(w.gateway.stats.loginFailures)) this.inc({ worker: w.worker, code }, n);
      },
    });
    new Gauge({
      name: 'tern_online',
      help: 'Users and sessions online on this node.',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        const { users, sessions } = source.online();
        this.set({ kind: 'users' }, users);
        this.set({ kind: 'sessions' }, sessions);
      },
    });
    new Gauge({
      name: 'tern_event_loop_lag_seconds',
      help: 'Event-loop delay since the previous scrape, per process.',
      labelNames: ['process', 'quantile'],
      registers: [registry],
      collect() {
        this.reset();
        const set = (process: string, lag: LoopLag) => {
          this.set({ process, quantile: '0.5' }, lag.p50);
          this.set({ process, quantile: '0.99' }, lag.p99);
          this.set({ process, quantile: '1' }, lag.max);
        };
        set(source.processLabel, source.loopLag());
        for (const w of read()) if (w.loopLag) set(`gateway-${w.worker}`, w.loopLag);
      },
    });
    this.commitSeconds = new Histogram({
      name: 'tern_store_commit_seconds',
      help: 'Time from a message commit to its durability, seconds.',
      buckets: COMMIT_BUCKETS,
      registers: [registry],
    });
    new Counter({
      name: 'tern_webhook_events_total',
      help: 'Offline-push webhook events, by outcome: enqueued, delivered, retries, failed (attempts exhausted or refused), dropped (queue full).',
      labelNames: ['outcome'],
      registers: [registry],
      collect() {
        this.reset();
        const stats = source.webhook?.();
        if (stats) for (const [outcome, n] of Object.entries(stats)) this.inc({ outcome }, n);
      },
    });
    collectDefaultMetrics({ register: registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Reads every gateway once, then renders the registry in the Prometheus text format. */
  async render(): Promise<string> {
    this.current = await this.source.workers();
    return this.registry.metrics();
  }
}
