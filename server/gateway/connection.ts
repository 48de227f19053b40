/**
 * One client connection: frames in, frames out, the connection state machine, heartbeat and
 * login deadlines, and the push window. It knows sessions, not users: every business decision
 * is a call through the LogicApi seam.
 */
import type { Socket } from 'node:net';
import { encodeFrame, FrameDecoder, frameHeader, OversizedFrameError, readBody, type Frame } from '../../codec/index.ts';
import { Bodies, type BodyOf } from '../../protocol/bodies.ts';
import { ErrorCode, ERROR_INFO, ProtocolError, type ErrorCodeValue } from '../../protocol/errors.ts';
import { HEADER_SIZE, PROTOCOL_VERSION } from '../../protocol/header.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import type { FieldType } from '../../protocol/schema.ts';
import type { Clock } from '../logic/clock.ts';
import type { PushPayload } from '../push-payload.ts';
import type { AuthResult, ConnectionId, LogicApi, SessionInfo, SessionRequestName } from '../seam.ts';
import type { GatewayConfig } from './config.ts';
import { PushWindow, type InFlight } from './push-window.ts';
import { FrameRate } from './rate-limit.ts';
import { admit } from './opcode-policy.ts';
import type { Displaceable } from './admission.ts';
import type { Expirable, TimerWheel } from './timer-wheel.ts';
import { RequestGate } from './request-gate.ts';
import type { RoomViewer } from './rooms/viewer.ts';
import type { ConnectionCounters } from './counters.ts';

export type { ConnectionCounters } from './counters.ts';

export type ConnectionState = 'connected' | 'greeted' | 'authenticating' | 'authenticated' | 'closed';

export type CloseReason = 'overloaded' | 'peer' | 'idle' | 'loginTimeout' | 'protocol' | 'kicked' | 'slowConsumer' | 'pushTimeout' | 'abuse' | 'logout' | 'shutdown';

/** What a connection needs from the gateway that owns it. */
export interface ConnectionHost {
  readonly config: GatewayConfig;
  readonly clock: Clock;
  readonly logic: LogicApi;
  readonly wheel: TimerWheel<Connection>;
  readonly stats: ConnectionCounters;
  /** True once the gateway drains: new requests are answered 5003 (SPEC §13.2). */
  readonly draining: boolean;
  /** A request went to the logic (+1) or was settled (-1); the drain waits for none to be pending. */
  requestsPending(delta: 1 | -1): void;
  /** Uncorks the connection's socket (`flush()`) once the current turn of the event loop ends. */
  flushLater(connection: Connection): void;
  /** The logic accepted a roomJoin / roomLeave of this connection (SPEC §19). */
  joinedRoom(connection: Connection, roomId: string): void;
  leftRoom(connection: Connection, roomId: string): void;
  closed(connection: Connection, reason: CloseReason): void;
  /** The connection logged in: it no longer counts against the pre-login limits. */
  authenticated(connection: Connection): void;
  log(event: string, fields: Record<string, unknown>): void;
}

export type Transport = 'tcp' | 'tls';

export class Connection implements Expirable, Displaceable, RoomViewer {
  state: ConnectionState = 'connected';
  session: SessionInfo | undefined;
  private readonly decoder: FrameDecoder;
  private readonly rate: FrameRate;
  private window: PushWindow<PushPayload> | undefined;
  private corked = false;
  private readonly gate: RequestGate;
  private lastActivity: number;
  private readonly acceptedAt: number;
  private client = '';
  private badBodies = 0;
  /** Set by a request refused with 5003 during a drain: close once the earlier requests are answered. */
  private closeWhenAnswered = false;
  /** Session requests received and not yet answered (waiting in the gate or with the logic). */
  private unanswered = 0;

  constructor(
    readonly id: ConnectionId,
    private readonly socket: Socket,
    private readonly host: ConnectionHost,
    acceptedAt = host.clock.now(),
    readonly transport: Transport = 'tcp',
  ) {
    const { config } = host;
    // No valid request is larger than maxRequestSize, so neither a frame nor a decompressed body
    // from a client may be: a connection can make the server buffer or inflate at most that much.
    this.decoder = new FrameDecoder({ maxFrameSize: Math.min(config.maxFrameSize, HEADER_SIZE + config.maxRequestSize), maxRawBodySize: config.maxRequestSize });
    this.rate = new FrameRate(config.framesPerSecond, config.bodyBytesPerSecond);
    this.gate = new RequestGate(
      { maxRequests: config.maxRequestsInFlight, maxBytes: config.maxRequestBytesInFlight },
      {
        pause: () => this.socket.pause(),
        resume: () => {
          if (this.state !== 'closed') this.socket.resume();
        },
      },
    );
    this.acceptedAt = this.lastActivity = acceptedAt;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.finish('peer'));
    socket.on('error', () => this.finish('peer'));
    host.wheel.schedule(this, this.acceptedAt + Math.min(config.loginDeadlineMs, config.idleTimeoutMs));
  }

  get remoteAddress(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? 0}`;
  }

  /** Pushes sent and not yet acknowledged, and pushes waiting for room in the window. */
  get pushesInFlight(): number {
    return this.window?.inFlightCount ?? 0;
  }

  get pushesQueued(): number {
    return this.window?.queuedCount ?? 0;
  }

  /** Nothing of this connection is waiting for the logic or for the client's pushAck. */
  get quiet(): boolean {
    return this.unanswered === 0 && this.pushesInFlight === 0 && this.pushesQueued === 0 && this.state !== 'authenticating';
  }

  /** Queues an inbox entry for reliable delivery. */
  push(payload: PushPayload): void {
    if (this.state !== 'authenticated') return;
    try {
      payload.prepared(this.host.config);
    } catch (error) {
      // Cannot happen within the configured limits (startNode checks them); the entry stays in
      // the inbox, and this connection is not sent a frame its peer would have to refuse.
      if (!(error instanceof OversizedFrameError)) throw error;
      return this.host.log('oversized-push', { connection: this.id, error: error.message });
    }
    // Created on the first push: idle connections never pay for a window.
    const { config } = this.host;
    this.window ??= new PushWindow({ window: config.pushWindow, queueLimit: config.pushQueue, ackTimeoutMs: config.pushAckTimeoutMs, maxRetries: config.pushMaxRetries });
    const admitted = this.window.offer(payload, this.host.clock.now());
    if (admitted === 'overflow') return this.fail(new ProtocolError(ErrorCode.overloaded, 'push queue full: slow consumer'), 'slowConsumer');
    if (admitted !== 'queued') this.sendPushes([admitted]);
  }

  get outputBytes(): number {
    return this.socket.writableLength;
  }

  /**
   * Room batches: bytes encoded once for many connections. A lone frame outside a corked turn is
   * written as is (one write, no cork); otherwise the chunks join this turn's writev.
   */
  writeFrameBytes(chunks: readonly Buffer[]): void {
    if (this.state !== 'authenticated') return;
    if (chunks.length === 1 && !this.corked) {
      this.host.stats.frames++;
      this.socket.write(chunks[0] as Buffer);
      if (this.socket.writableLength > this.host.config.maxWriteBufferBytes) this.end('slowConsumer', true);
      return;
    }
    for (const chunk of chunks) this.write(chunk);
  }

  roomLeft(body: BodyOf<'roomLeft'>): void {
    if (this.state !== 'authenticated') return;
    this.write(encodeFrame(Opcode.roomLeft, 0, Bodies.roomLeft, body));
  }

  kick(body: BodyOf<'kick'>): void {
    if (this.state === 'closed') return;
    this.write(encodeFrame(Opcode.kick, 0, Bodies.kick, body));
    this.end('kicked');
  }

  goAway(body: BodyOf<'goAway'>): void {
    if (this.state === 'closed') return;
    this.write(encodeFrame(Opcode.goAway, 0, Bodies.goAway, body));
  }

  /** Deadline sweep: login deadline, idle timeout and push retransmission. */
  expire(now: number): number | undefined {
    if (this.state === 'closed') return undefined;
    const { config } = this.host;
    if (this.state !== 'authenticated' && now >= this.acceptedAt + config.loginDeadlineMs) {
      this.fail(new ProtocolError(ErrorCode.loginTimeout), 'loginTimeout');
      return undefined;
    }
    if (now >= this.lastActivity + config.idleTimeoutMs) {
      this.host.log('idle', { connection: this.id });
      this.end('idle', true);
      return undefined;
    }
    if (this.window && !this.retransmit(now)) return undefined;
    let next = this.lastActivity + config.idleTimeoutMs;
    if (this.state !== 'authenticated') next = Math.min(next, this.acceptedAt + config.loginDeadlineMs);
    const due = this.window?.nextDue();
    return due === undefined ? next : Math.min(next, due);
  }

  /** A connection that has not started to log in may make room for a new one (admission.ts). */
  get displaceable(): boolean {
    return this.state === 'connected' || this.state === 'greeted';
  }

  displace(): void {
    this.fail(new ProtocolError(ErrorCode.overloaded, 'displaced by a newer connection: too many connections have not logged in'), 'overloaded');
  }

  /** Closes with a go-away-less shutdown. */
  shutdown(): void {
    this.end('shutdown');
  }

  private onData(chunk: Buffer): void {
    const error = this.decoder.push(chunk, (frame) => this.onFrame(frame));
    if (error) this.fail(error, 'protocol');
  }

  private onFrame(frame: Frame): void {
    if (this.state === 'closed') return;
    const now = this.host.clock.now();
    this.lastActivity = now;
    this.host.stats.framesIn++;
    // Counted before decompression from the header, so inflating past the budget never happens.
    const verdict = this.rate.hit(now, frame.rawLength || frame.body.length);
    if (verdict === 'abuse') return this.fail(new ProtocolError(ErrorCode.rateLimited, 'frame or byte rate far above the limit'), 'abuse');
    if (verdict === 'throttle' && frame.opcode !== Opcode.pushAck) return this.replyError(frame.requestId, new ProtocolError(ErrorCode.rateLimited));
    try {
      this.dispatch(frame);
    } catch (error) {
      this.replyError(frame.requestId, error);
    }
  }

  private dispatch(frame: Frame): void {
    const admitted = admit(this.state, frame.opcode);
    if (admitted instanceof ProtocolError) throw admitted;
    if (this.host.draining && (admitted.kind === 'auth' || admitted.kind === 'session')) return this.refuseWhileDraining(frame.requestId);
    switch (admitted.kind) {
      case 'ping':
        readBody(frame, Bodies.ping);
        this.reply(Opcode.pong, frame.requestId, Bodies.pong, { serverTime: this.host.clock.now() });
        return;
      case 'hello':
        return this.onHello(frame);
      case 'auth':
        return this.onAuth(frame);
      case 'pushAck':
        return this.onPushAck(readBody(frame, Bodies.pushAck).upTo);
      case 'session':
        return this.onSessionRequest(admitted.route.name, admitted.route.reply, frame.requestId, readBody(frame, admitted.route.body), this.session as SessionInfo, frame.rawLength || frame.body.length);
    }
  }

  private onHello(frame: Frame): void {
    const hello = readBody(frame, Bodies.hello);
    if (hello.version !== PROTOCOL_VERSION) return this.fail(new ProtocolError(ErrorCode.badVersion, `protocol version ${hello.version} is not supported`), 'protocol');
    this.client = hello.client;
    this.state = 'greeted';
    const { config } = this.host;
    this.reply(Opcode.serverHello, frame.requestId, Bodies.serverHello, {
      serverTime: this.host.clock.now(),
      heartbeatMs: config.heartbeatMs,
      idleTimeoutMs: config.idleTimeoutMs,
      loginDeadlineMs: config.loginDeadlineMs,
      maxFrameSize: config.maxFrameSize,
      maxRawBodySize: config.maxRawBodySize,
      compressThreshold: config.compressThreshold,
      pushWindow: config.pushWindow,
      server: config.serverName,
      maxRequestSize: config.maxRequestSize,
    });
  }

  private onAuth(frame: Frame): void {
    const info = { connectionId: this.id, remoteAddress: this.remoteAddress, client: this.client };
    const pending: Promise<AuthResult> =
      frame.opcode === Opcode.register ? this.host.logic.register(info, readBody(frame, Bodies.register)) : this.host.logic.login(info, readBody(frame, Bodies.login));
    this.state = 'authenticating';
    this.host.requestsPending(1);
    pending.then(
      (result) => {
        this.host.requestsPending(-1);
        if (this.state !== 'authenticating') return this.host.logic.disconnected(result.session);
        this.state = 'authenticated';
        this.session = result.session;
        this.host.stats.logins++;
        this.host.authenticated(this);
        this.reply(Opcode.session, frame.requestId, Bodies.session, result.reply);
        this.host.log('login', { connection: this.id, user: result.session.userId, device: result.session.deviceId, platform: result.session.platform, transport: this.transport });
      },
      (error: unknown) => {
        this.host.requestsPending(-1);
        if (this.state === 'authenticating') this.state = 'greeted';
        const code = error instanceof ProtocolError ? error.code : ErrorCode.internal;
        const failures = this.host.stats.loginFailures;
        failures[code] = (failures[code] ?? 0) + 1;
        // Never the password or the token: the user id and the code are enough to follow an attack.
        this.host.log('login-failed', { connection: this.id, address: this.remoteAddress, code });
        this.replyError(frame.requestId, error);
      },
    );
  }

  private onSessionRequest(name: SessionRequestName, replyName: keyof typeof Opcode, requestId: number, body: unknown, session: SessionInfo, bytes: number): void {
    // Requests go to the logic in arrival order (the gate keeps it); the logic keeps one conversation's sends in that order.
    this.unanswered++;
    this.host.requestsPending(1);
    this.gate.run(bytes, () =>
      this.host.logic.request(session, name, body as never).then(
        (reply) => {
          if (this.state === 'authenticated') this.afterRoomRequest(name, body);
          const written = this.reply(Opcode[replyName], requestId, Bodies[replyName as 'ok'] as FieldType<unknown>, reply);
          const { stats } = this.host;
          if (name === 'send') stats.messagesIn++;
          else if (name === 'sync') {
            stats.syncPages++;
            stats.syncBytes += written;
          }
          this.requestAnswered();
          if (name === 'logout') this.end('logout');
        },
        (error: unknown) => {
          this.requestAnswered();
          this.replyError(requestId, error);
        },
      ),
    );
  }

  private requestAnswered(): void {
    this.unanswered--;
    this.host.requestsPending(-1);
    if (this.closeWhenAnswered && this.unanswered === 0) this.end('shutdown');
  }

  /** A join takes effect before its reply is written, so the room's first batch follows roomJoined. */
  private afterRoomRequest(name: SessionRequestName, body: unknown): void {
    if (name === 'roomJoin') this.host.joinedRoom(this, (body as BodyOf<'roomJoin'>).roomId);
    else if (name === 'roomLeave') this.host.leftRoom(this, (body as BodyOf<'roomLeave'>).roomId);
  }

  private onPushAck(upTo: number): void {
    // upTo 0 acknowledges nothing, which is harmless before the first push too (SPEC §10.2).
    if (upTo === 0) return;
    const window = this.window;
    const result = window?.ack(upTo);
    if (!window || !result?.ok) throw new ProtocolError(ErrorCode.badAck, `SID ${upTo} was never sent (last is ${window?.lastSid ?? 0})`);
    if (window.queuedCount > 0) this.sendPushes(window.take(this.host.clock.now()));
  }

  /**
   * A new request during a drain: 5003, and the connection closes once the requests it sent
   * before are answered, so none of those replies is lost (SPEC §13.2).
   */
  private refuseWhileDraining(requestId: number): void {
    const code = ErrorCode.shuttingDown;
    this.reply(Opcode.error, requestId, Bodies.error, { code, message: ERROR_INFO[code].meaning, retry: true });
    if (this.unanswered === 0) return this.end('shutdown');
    this.closeWhenAnswered = true;
    this.socket.pause();
  }

  private sendPushes(pushes: InFlight<PushPayload>[]): void {
    this.host.stats.pushes += pushes.length;
    for (const pushed of pushes) this.writePush(pushed);
    const first = pushes[0];
    if (first) this.host.wheel.schedule(this, first.dueAt);
  }

  /** Resends overdue pushes with their SIDs; false when the connection was closed for not acking. */
  private retransmit(now: number): boolean {
    const overdue = this.window?.overdue(now) ?? [];
    if (overdue === 'dead') {
      this.host.log('push-timeout', { connection: this.id });
      this.end('pushTimeout', true);
      return false;
    }
    this.host.stats.retransmits += overdue.length;
    for (const pushed of overdue) this.writePush(pushed);
    return this.state !== 'closed';
  }

  /** Writes a reply frame; returns its size in bytes (0 when the connection is closed or the reply was refused). */
  private reply<T>(opcode: number, requestId: number, schema: FieldType<T>, body: T): number {
    if (this.state === 'closed') return 0;
    let frame: Buffer;
    try {
      // The encoder refuses a frame above the advertised maxFrameSize / maxRawBodySize.
      frame = encodeFrame(opcode, requestId, schema, body, this.host.config);
    } catch (error) {
      if (!(error instanceof OversizedFrameError) || opcode === Opcode.error) throw error;
      this.replyError(requestId, error);
      return 0;
    }
    this.write(frame);
    return frame.length;
  }

  private replyError(requestId: number, error: unknown): void {
    const protocolError = error instanceof ProtocolError ? error : undefined;
    if (!protocolError) this.host.log('internal-error', { connection: this.id, error: String((error as Error)?.stack ?? error) });
    const code: ErrorCodeValue = protocolError?.code ?? ErrorCode.internal;
    const info = ERROR_INFO[code];
    if (info.fatal) this.host.log('fatal-error', { connection: this.id, code, state: this.state });
    // A framing error's frame cannot be trusted, its request id included (SPEC §2.3).
    const id = code >= ErrorCode.frameTooLarge && code <= ErrorCode.badCompression ? 0 : requestId;
    this.reply(Opcode.error, id, Bodies.error, { code, message: protocolError?.message ?? info.meaning, retry: info.retry });
    if (info.fatal) return this.end('protocol');
    // Policy: close. A client that has not logged in and keeps sending malformed bodies is probing,
    // not buggy; each try costs a decode, so it gets a bounded number of them.
    if (code === ErrorCode.badBody && this.state !== 'authenticated' && ++this.badBodies >= this.host.config.preLoginBadBodies) this.end('abuse');
  }

  /** Sends the error frame of a fatal condition, then closes. */
  private fail(error: ProtocolError, reason: CloseReason): void {
    if (this.state === 'closed') return;
    this.reply(Opcode.error, 0, Bodies.error, { code: error.code, message: error.message, retry: error.retry });
    this.end(reason);
  }

  /** The entry's shared body bytes behind this connection's header (its SID). */
  private writePush(pushed: InFlight<PushPayload>): void {
    const prepared = pushed.payload.prepared(this.host.config);
    this.write(frameHeader(Opcode.push, pushed.sid, prepared));
    this.write(prepared.bytes);
  }

  /** Uncorks what this turn wrote; called by the gateway at the end of the turn. */
  flush(): void {
    if (!this.corked) return;
    this.corked = false;
    this.host.stats.flushes++;
    this.socket.uncork();
  }

  private write(bytes: Buffer): void {
    if (this.state === 'closed') return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      this.host.flushLater(this);
    }
    this.host.stats.frames++;
    this.socket.write(bytes);
    // Slow consumer: the kernel and Node buffers are full; drop the connection rather than grow
    // without bound. Everything pushed is in the inbox, so the next sync delivers it.
    if (this.socket.writableLength > this.host.config.maxWriteBufferBytes) this.end('slowConsumer', true);
  }

  /** Flushes what was written, then closes; `abrupt` destroys at once. */
  private end(reason: CloseReason, abrupt = false): void {
    if (this.state === 'closed') return;
    if (abrupt) this.socket.destroy();
    else {
      this.socket.end();
      // A peer that never closes its side must not hold the socket forever.
      setTimeout(() => this.socket.destroy(), 2_000).unref();
    }
    this.finish(reason);
  }

  private finish(reason: CloseReason): void {
    if (this.state === 'closed') return;
    const wasAuthenticated = this.state === 'authenticated';
    this.host.log('close', { connection: this.id, reason, state: this.state, ...(this.session ? { user: this.session.userId, device: this.session.deviceId } : {}) });
    this.state = 'closed';
    this.gate.close();
    if (wasAuthenticated && this.session) this.host.logic.disconnected(this.session);
    this.host.closed(this, reason);
  }
}
