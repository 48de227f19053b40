/**
 * The access layer of one process: TCP and TLS listeners, admission control, the registry of
 * live connections and the deadline sweep. Implements the GatewayApi half of the seam.
 */
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { encodeFrame } from '../../codec/index.ts';
import { Bodies, type BodyOf } from '../../protocol/bodies.ts';
import { ErrorCode, ERROR_INFO } from '../../protocol/errors.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import type { Clock } from '../logic/clock.ts';
import type { PushPayload } from '../push-payload.ts';
import type { ConnectionId, GatewayApi, LogicApi } from '../seam.ts';
import type { GatewayConfig } from './config.ts';
import { Connection, type CloseReason, type ConnectionHost } from './connection.ts';
import { TimerWheel } from './timer-wheel.ts';

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  /** Certificate and key for TLS; without them no TLS listener is opened. */
  readonly tls?: { readonly port: number; readonly options: TlsOptions };
}

export type Logger = (event: string, fields: Record<string, unknown>) => void;

export interface GatewayStats {
  connections: number;
  accepted: number;
  rejected: number;
  closed: Partial<Record<CloseReason, number>>;
  /** Socket flushes: one per connection per turn in which something was written to it. */
  flushes: number;
  /** Frames written, first sends, retransmissions and replies alike. */
  frames: number;
}

export class Gateway implements GatewayApi, ConnectionHost {
  readonly wheel: TimerWheel<Connection>;
  readonly stats: GatewayStats = { connections: 0, accepted: 0, rejected: 0, closed: {}, flushes: 0, frames: 0 };
  private readonly connections = new Map<ConnectionId, Connection>();
  private toFlush: Connection[] = [];
  private readonly servers: Server[] = [];
  private counter = 0;
  private acceptWindowStart = 0;
  private acceptsInWindow = 0;
  private sweep: NodeJS.Timeout | undefined;

  constructor(
    readonly config: GatewayConfig,
    readonly clock: Clock,
    readonly logic: LogicApi,
    private readonly idPrefix: string,
    private readonly logger: Logger,
  ) {
    this.wheel = new TimerWheel<Connection>(config.sweepResolutionMs, clock.now());
  }

  /** Opens the listeners and starts the sweep; resolves with the bound ports. */
  async listen(options: ListenOptions): Promise<{ port: number; tlsPort?: number }> {
    const tcp = createTcpServer({ noDelay: true }, (socket) => this.accept(socket));
    const port = await this.bind(tcp, options.host, options.port);
    let tlsPort: number | undefined;
    if (options.tls) {
      // The TLS handshake counts against the login deadline.
      const tls = createTlsServer({ minVersion: 'TLSv1.2', handshakeTimeout: this.config.loginDeadlineMs, ...options.tls.options }, (socket) => this.accept(socket));
      tls.on('tlsClientError', () => this.stats.rejected++);
      tlsPort = await this.bind(tls, options.host, options.tls.port);
    }
    this.sweep = setInterval(() => this.tick(this.clock.now()), this.config.sweepResolutionMs);
    this.sweep.unref();
    return tlsPort === undefined ? { port } : { port, tlsPort };
  }

  /** Runs the deadline sweep up to `now`; tests call it with an injected clock instead of sleeping. */
  tick(now: number): void {
    this.wheel.advance(now);
  }

  push(connectionIds: readonly ConnectionId[], payload: PushPayload): void {
    for (const connectionId of connectionIds) this.connections.get(connectionId)?.push(payload);
  }

  /**
   * Called by a connection on its first write in a turn of the event loop: its socket stays corked
   * until the turn ends, so everything written to it in between leaves in one writev.
   */
  flushLater(connection: Connection): void {
    this.toFlush.push(connection);
    if (this.toFlush.length === 1) setImmediate(this.flushAll);
  }

  private readonly flushAll = (): void => {
    const connections = this.toFlush;
    this.toFlush = [];
    for (const connection of connections) connection.flush();
  };

  kick(connectionId: ConnectionId, body: BodyOf<'kick'>): void {
    this.connections.get(connectionId)?.kick(body);
  }

  /** Asks every client to reconnect elsewhere after a jittered delay, then stops accepting. */
  drain(spreadMs: number): void {
    for (const server of this.servers) server.close();
    for (const connection of this.connections.values()) {
      connection.goAway({ reconnectAfterMs: Math.floor(Math.random() * spreadMs), reason: 'draining' });
    }
  }

  async close(): Promise<void> {
    if (this.sweep) clearInterval(this.sweep);
    for (const connection of [...this.connections.values()]) connection.shutdown();
    await Promise.all(this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }

  get size(): number {
    return this.connections.size;
  }

  closed(connection: Connection, reason: CloseReason): void {
    if (this.connections.delete(connection.id)) this.stats.connections--;
    this.stats.closed[reason] = (this.stats.closed[reason] ?? 0) + 1;
  }

  log(event: string, fields: Record<string, unknown>): void {
    this.logger(event, fields);
  }

  private accept(socket: Socket): void {
    const now = this.clock.now();
    if (now - this.acceptWindowStart >= 1000) {
      this.acceptWindowStart = now;
      this.acceptsInWindow = 0;
    }
    // Admission control against reconnect avalanches: refuse with a retryable error, cheaply.
    if (this.connections.size >= this.config.maxConnections || ++this.acceptsInWindow > this.config.maxAcceptsPerSecond) {
      this.stats.rejected++;
      const code = ErrorCode.overloaded;
      socket.on('error', () => socket.destroy());
      socket.end(encodeFrame(Opcode.error, 0, Bodies.error, { code, message: ERROR_INFO[code].meaning, retry: true }));
      return;
    }
    const id = `${this.idPrefix}.${++this.counter}`;
    this.connections.set(id, new Connection(id, socket, this));
    this.stats.accepted++;
    this.stats.connections++;
  }

  private bind(server: Server, host: string, port: number): Promise<number> {
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, backlog: 4096 }, () => {
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }
}
