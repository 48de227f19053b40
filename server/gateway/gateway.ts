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
import type { ConnectionId, GatewayApi, LogicApi, RoomBroadcastBatch } from '../seam.ts';
import type { GatewayConfig } from './config.ts';
import { Connection, type CloseReason, type ConnectionCounters, type ConnectionHost, type ConnectionState, type Transport } from './connection.ts';
import { Admission } from './admission.ts';
import { TimerWheel } from './timer-wheel.ts';
import { LocalRooms, type Schedule } from './rooms/local-rooms.ts';
import type { RoomFanout } from './rooms/fanout.ts';
import { emptyRoomStats, type RoomDeliveryStats } from './rooms/viewer.ts';

/** How a gateway batches and writes room messages; tests drive the schedule, the bench swaps the fan-out. */
export interface GatewayRoomOptions {
  readonly schedule?: Schedule;
  readonly fanout?: RoomFanout;
}

/** The same TCP connection seen before (raw socket) and after (TLS socket) its handshake. */
function handshakeKey(socket: Socket): string {
  return `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}`;
}

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  /** Certificate and key for TLS; without them no TLS listener is opened. */
  readonly tls?: { readonly port: number; readonly options: TlsOptions };
}

export type Logger = (event: string, fields: Record<string, unknown>) => void;

export interface GatewayStats extends ConnectionCounters {
  connections: number;
  accepted: number;
  rejected: number;
  closed: Partial<Record<CloseReason, number>>;
  rooms: RoomDeliveryStats;
}

/** What the metrics endpoint reads from a gateway when it is scraped: counters and current levels. */
export interface GatewaySnapshot {
  readonly stats: GatewayStats;
  /** Open connections by transport and state. */
  readonly connections: Record<Transport, Partial<Record<ConnectionState, number>>>;
  readonly pushesInFlight: number;
  readonly pushesQueued: number;
  readonly draining: boolean;
}

export interface DrainOptions {
  /** Longest wait for in-flight requests and unacknowledged pushes before closing anyway. */
  readonly graceMs: number;
  /** goAway.reconnectAfterMs is drawn uniformly from [0, spreadMs). */
  readonly spreadMs: number;
  /** Source of the jitter; Math.random unless a test fixes it. */
  readonly random?: () => number;
  /**
   * How long nothing must be in flight before the drain ends while connections are open: requests
   * a client sent before it read the goAway are still on their way, and get an answer (5003)
   * rather than a closed connection. Default 1 s.
   */
  readonly quietMs?: number;
  /** Other gateways for the clients to go to (from dispatch), best first. */
  readonly alternatives?: BodyOf<'goAway'>['alternatives'];
}

/** serving → draining (goAway sent, waiting for quiet or the deadline) → drained (the owner closes). */
type DrainState =
  | { readonly kind: 'serving' }
  | { readonly kind: 'draining'; readonly deadline: number; readonly quietMs: number; quietSince: number | undefined; readonly done: () => void }
  | { readonly kind: 'drained' };

export class Gateway implements GatewayApi, ConnectionHost {
  readonly wheel: TimerWheel<Connection>;
  readonly stats: GatewayStats = {
    connections: 0,
    accepted: 0,
    rejected: 0,
    closed: {},
    flushes: 0,
    frames: 0,
    framesIn: 0,
    logins: 0,
    loginFailures: {},
    messagesIn: 0,
    pushes: 0,
    retransmits: 0,
    syncPages: 0,
    syncBytes: 0,
    rooms: emptyRoomStats(),
  };
  readonly rooms: LocalRooms;
  private pending = 0;
  private drainState: DrainState = { kind: 'serving' };
  private readonly connections = new Map<ConnectionId, Connection>();
  private toFlush: Connection[] = [];
  private readonly servers: Server[] = [];
  private counter = 0;
  private readonly admission: Admission<Connection>;
  /** TLS connections between TCP accept and the end of their handshake, by remote address and port. */
  private readonly handshakes = new Map<string, { token: symbol; acceptedAt: number }>();
  private sweep: NodeJS.Timeout | undefined;

  constructor(
    readonly config: GatewayConfig,
    readonly clock: Clock,
    readonly logic: LogicApi,
    private readonly idPrefix: string,
    private readonly logger: Logger,
    roomOptions: GatewayRoomOptions = {},
  ) {
    this.wheel = new TimerWheel<Connection>(config.sweepResolutionMs, clock.now());
    this.admission = new Admission<Connection>(config);
    this.rooms = new LocalRooms(
      {
        batchMessages: config.roomBatchMessages,
        batchMs: config.roomBatchMs,
        queueBytes: config.roomViewerQueueBytes,
        maxBytes: config.roomViewerMaxBytes,
        slowViewerMs: config.roomSlowViewerMs,
        compressThreshold: config.compressThreshold,
      },
      clock,
      this.stats.rooms,
      (connectionId, roomId) => {
        const session = this.connections.get(connectionId)?.session;
        if (session) this.logic.roomLeft(session, roomId);
      },
      roomOptions.schedule,
      roomOptions.fanout,
    );
  }

  /** Opens the listeners and starts the sweep; resolves with the bound ports. */
  async listen(options: ListenOptions): Promise<{ port: number; tlsPort?: number }> {
    const tcp = createTcpServer({ noDelay: true }, (socket) => this.accept(socket));
    const port = await this.bind(tcp, options.host, options.port);
    let tlsPort: number | undefined;
    if (options.tls) {
      // Admitted, counted and timed from the TCP accept: the handshake counts against the login
      // deadline and against the pre-login limits, so open handshakes cannot exceed them.
      const tls = createTlsServer({ minVersion: 'TLSv1.2', handshakeTimeout: this.config.loginDeadlineMs, ...options.tls.options }, (socket) => this.acceptTls(socket));
      tls.on('connection', (socket: Socket) => this.beforeHandshake(socket));
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
    const drain = this.drainState;
    if (drain.kind !== 'draining') return;
    if (!this.quiet()) drain.quietSince = undefined;
    else drain.quietSince ??= now;
    const settled = drain.quietSince !== undefined && (this.connections.size === 0 || now - drain.quietSince >= drain.quietMs);
    if (settled || now >= drain.deadline) drain.done();
  }

  get draining(): boolean {
    return this.drainState.kind !== 'serving';
  }

  requestsPending(delta: 1 | -1): void {
    this.pending += delta;
  }

  /** No request is with the logic and no push waits for its ACK. */
  private quiet(): boolean {
    if (this.pending > 0) return false;
    for (const connection of this.connections.values()) if (!connection.quiet) return false;
    return true;
  }

  snapshot(): GatewaySnapshot {
    const connections: GatewaySnapshot['connections'] = { tcp: {}, tls: {} };
    let pushesInFlight = 0;
    let pushesQueued = 0;
    for (const connection of this.connections.values()) {
      const byState = connections[connection.transport];
      byState[connection.state] = (byState[connection.state] ?? 0) + 1;
      pushesInFlight += connection.pushesInFlight;
      pushesQueued += connection.pushesQueued;
    }
    return { stats: { ...this.stats, closed: { ...this.stats.closed }, loginFailures: { ...this.stats.loginFailures } }, connections, pushesInFlight, pushesQueued, draining: this.draining };
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

  roomPublish(batch: RoomBroadcastBatch): void {
    this.rooms.publish(batch);
  }

  /** The logic accepted the connection's join: it receives the room's batches from now on. */
  joinedRoom(connection: Connection, roomId: string): void {
    this.rooms.join(connection, roomId);
  }

  leftRoom(connection: Connection, roomId: string): void {
    this.rooms.leave(connection.id, roomId);
  }

  /**
   * Stops accepting, asks every client to reconnect after a jittered delay (goAway), answers new
   * requests 5003 and resolves once no request is with the logic and every push window is empty,
   * or when the grace period ends, whichever is first (SPEC §13.2). The caller then closes.
   */
  drain(options: DrainOptions): Promise<void> {
    if (this.drainState.kind !== 'serving') return Promise.resolve();
    const random = options.random ?? Math.random;
    for (const server of this.servers) server.close();
    this.logger('drain', { connections: this.connections.size, graceMs: options.graceMs });
    for (const connection of this.connections.values()) {
      const alternatives = options.alternatives?.length ? { alternatives: options.alternatives } : {};
      connection.goAway({ reconnectAfterMs: Math.floor(random() * options.spreadMs), reason: 'draining', ...alternatives });
    }
    return new Promise((resolve) => {
      const now = this.clock.now();
      this.drainState = {
        kind: 'draining',
        deadline: now + options.graceMs,
        quietMs: options.quietMs ?? 1_000,
        quietSince: undefined,
        done: () => {
          this.drainState = { kind: 'drained' };
          this.logger('drained', { connections: this.connections.size, pending: this.pending });
          resolve();
        },
      };
      this.tick(now);
    });
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
    this.rooms.dropConnection(connection.id);
    if (this.connections.delete(connection.id)) this.stats.connections--;
    this.admission.leave(connection);
    this.stats.closed[reason] = (this.stats.closed[reason] ?? 0) + 1;
  }

  log(event: string, fields: Record<string, unknown>): void {
    this.logger(event, fields);
  }

  authenticated(connection: Connection): void {
    this.admission.leave(connection);
  }

  private accept(socket: Socket): void {
    const now = this.clock.now();
    // Admission control against reconnect avalanches and pre-login floods: refuse with a retryable error, cheaply.
    if (this.admission.decide(socket.remoteAddress ?? '', this.connections.size + this.handshakes.size, now) === 'refuse') {
      this.stats.rejected++;
      const code = ErrorCode.overloaded;
      socket.on('error', () => socket.destroy());
      socket.end(encodeFrame(Opcode.error, 0, Bodies.error, { code, message: ERROR_INFO[code].meaning, retry: true }));
      return;
    }
    this.open(socket, now);
  }

  private open(socket: Socket, acceptedAt: number, transport: Transport = 'tcp'): void {
    const id = `${this.idPrefix}.${++this.counter}`;
    const connection = new Connection(id, socket, this, acceptedAt, transport);
    this.logger('open', { connection: id, address: connection.remoteAddress, transport });
    this.connections.set(id, connection);
    this.admission.enter(connection, socket.remoteAddress ?? '');
    this.stats.accepted++;
    this.stats.connections++;
  }

  /** A TCP connection to the TLS port, before its handshake: admitted or dropped now. */
  private beforeHandshake(socket: Socket): void {
    const now = this.clock.now();
    const address = socket.remoteAddress ?? '';
    if (this.admission.decide(address, this.connections.size + this.handshakes.size, now) === 'refuse') {
      // No frame can be sent before the handshake: a plain close is the refusal.
      this.stats.rejected++;
      socket.destroy();
      return;
    }
    const token = Symbol('handshake');
    this.handshakes.set(handshakeKey(socket), { token, acceptedAt: now });
    this.admission.enter(token, address);
    socket.once('close', () => this.endHandshake(handshakeKey(socket)));
  }

  private acceptTls(socket: Socket): void {
    const handshake = this.endHandshake(handshakeKey(socket));
    if (!handshake) return void socket.destroy();
    this.open(socket, handshake.acceptedAt, 'tls');
  }

  private endHandshake(key: string): { acceptedAt: number } | undefined {
    const handshake = this.handshakes.get(key);
    if (!handshake) return undefined;
    this.handshakes.delete(key);
    this.admission.leave(handshake.token);
    return handshake;
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
