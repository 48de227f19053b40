/**
 * One client connection: socket, frame decoding, request/reply correlation by request id, and
 * heartbeats. It knows frames, not chat; the Client on top of it does sessions and messages.
 */
import { EventEmitter } from 'node:events';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { encodeFrame, FrameDecoder, readBody, type Frame } from '../codec/index.ts';
import { Bodies } from '../protocol/bodies.ts';
import { ErrorCode, ProtocolError, isErrorCode } from '../protocol/errors.ts';
import { MAX_REQUEST_ID } from '../protocol/header.ts';
import { Opcode } from '../protocol/opcodes.ts';
import type { FieldType } from '../protocol/schema.ts';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  /** TLS options (ca, servername, …); plain TCP when absent. */
  readonly tls?: ConnectionOptions;
  /** Local address to bind, e.g. 127.0.0.2, to spread many connections over source addresses. */
  readonly localAddress?: string;
}

/** The server answered a request with an error frame. */
export class ServerError extends ProtocolError {
  constructor(code: number, message: string) {
    super(isErrorCode(code) ? code : ErrorCode.internal, message);
    this.name = 'ServerError';
  }
}

export class RequestTimeout extends Error {
  readonly code = 'REQUEST_TIMEOUT';
  constructor(opcode: number) {
    super(`no reply to opcode 0x${opcode.toString(16)} in time`);
  }
}

export class ConnectionClosed extends Error {
  readonly code = 'CONNECTION_CLOSED';
  constructor() {
    super('the connection closed before the reply');
  }
}

interface Pending {
  readonly opcode: number;
  readonly schema: FieldType<unknown>;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export interface TransportEvents {
  /** A server-initiated frame: push, kick, go-away, or an error with request id 0. */
  frame: [Frame];
  /** A reply frame, before it is decoded (for tools that look at flags or sizes). */
  reply: [Frame];
  close: [Error | undefined];
}

export class Transport extends EventEmitter<TransportEvents> {
  private readonly decoder = new FrameDecoder();
  private readonly pending = new Map<number, Pending>();
  private nextRequestId = 1;
  private lastSent = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(private readonly socket: Socket) {
    super();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      const error = this.decoder.push(chunk, (frame) => this.onFrame(frame));
      if (error) this.destroy(error);
    });
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => this.destroy(undefined));
  }

  static open(endpoint: Endpoint, timeoutMs = 10_000): Promise<Transport> {
    return new Promise((resolve, reject) => {
      const base = { host: endpoint.host, port: endpoint.port, ...(endpoint.localAddress ? { localAddress: endpoint.localAddress } : {}) };
      const socket = endpoint.tls ? connectTls({ ...base, ...endpoint.tls }) : connectTcp(base);
      const timer = setTimeout(() => socket.destroy(new Error(`connect to ${endpoint.host}:${endpoint.port} timed out`)), timeoutMs);
      socket.once(endpoint.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.removeListener('error', reject);
        resolve(new Transport(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Sends a request and resolves with the decoded reply body, or rejects with ServerError / RequestTimeout / ConnectionClosed. */
  request<Req, Rep>(opcode: number, schema: FieldType<Req>, body: Req, replySchema: FieldType<Rep>, timeoutMs = 15_000): Promise<Rep> {
    if (this.closed) return Promise.reject(new ConnectionClosed());
    const requestId = this.nextRequestId;
    this.nextRequestId = this.nextRequestId >= MAX_REQUEST_ID ? 1 : this.nextRequestId + 1;
    return new Promise<Rep>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new RequestTimeout(opcode));
      }, timeoutMs);
      this.pending.set(requestId, { opcode, schema: replySchema as FieldType<unknown>, resolve: resolve as (v: unknown) => void, reject, timer });
      this.write(encodeFrame(opcode, requestId, schema, body));
    });
  }

  /** Sends a frame that has no reply (push ACKs). */
  notify<T>(opcode: number, requestId: number, schema: FieldType<T>, body: T): void {
    if (!this.closed) this.write(encodeFrame(opcode, requestId, schema, body));
  }

  /** Writes raw bytes; for tests of malformed input. */
  writeRaw(bytes: Buffer): void {
    if (!this.closed) this.write(bytes);
  }

  /** Pings whenever nothing was sent for `intervalMs`. */
  startHeartbeat(intervalMs: number): void {
    this.stopHeartbeat();
    const check = Math.max(50, Math.floor(intervalMs / 4));
    this.heartbeat = setInterval(() => {
      if (Date.now() - this.lastSent >= intervalMs) this.request(Opcode.ping, Bodies.ping, {}, Bodies.pong).catch(() => undefined);
    }, check);
    this.heartbeat.unref();
  }

  stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  close(): void {
    this.socket.end();
    this.destroy(undefined);
  }

  /** Tooling: stops reading the socket for `ms` (a slow reader), then reads again. Writes go on. */
  pauseReads(ms: number): void {
    if (this.closed) return;
    this.socket.pause();
    setTimeout(() => {
      if (!this.closed) this.socket.resume();
    }, ms).unref();
  }

  /** Drops the connection at once, as a lost network would. */
  destroy(error: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.stopHeartbeat();
    this.socket.destroy();
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new ConnectionClosed());
    }
    this.pending.clear();
    this.emit('close', error);
  }

  private write(bytes: Buffer): void {
    this.lastSent = Date.now();
    this.socket.write(bytes);
  }

  private onFrame(frame: Frame): void {
    // A push's request-id field is its SID, a roomPush's the dropped count: neither answers a request.
    const pending = frame.requestId !== 0 && frame.opcode !== Opcode.push && frame.opcode !== Opcode.roomPush ? this.pending.get(frame.requestId) : undefined;
    if (!pending) {
      this.emit('frame', frame);
      return;
    }
    this.pending.delete(frame.requestId);
    clearTimeout(pending.timer);
    this.emit('reply', frame);
    try {
      if (frame.opcode === Opcode.error) {
        const error = readBody(frame, Bodies.error);
        pending.reject(new ServerError(error.code, error.message));
      } else {
        pending.resolve(readBody(frame, pending.schema));
      }
    } catch (error) {
      pending.reject(error as Error);
    }
  }
}
