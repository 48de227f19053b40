/**
 * A minimal MQTT 3.1.1 client for load runs: connect with a persistent session (clean session
 * off, so the broker queues QoS 1 messages while we are away), subscribe, publish at QoS 1 with
 * the promise settled by PUBACK, acknowledge incoming QoS 1 PUBLISHes, keepalive pings, and
 * reconnect with jittered exponential backoff, resending unacknowledged PUBLISHes with DUP and
 * their original packet identifiers (section 4.4).
 *
 * Status, with every transition made in `setStatus`'s callers below:
 *   idle ─connect()→ connecting ─CONNACK→ ready ─lost→ reconnecting ─CONNACK→ ready
 *   connecting ─failed→ idle      ready|reconnecting ─disconnect()→ offline ─connect()→ connecting
 *   any ─close()→ closed (final)
 */
import { EventEmitter } from 'node:events';
import { connect as tcpConnect, type Socket } from 'node:net';
import { DISCONNECT, encodeConnect, encodePuback, encodePublish, encodeSubscribe, PINGREQ, withDup } from './encode.ts';
import { MqttError, MqttErrorCode } from './errors.ts';
import { ConnackCode, SUBACK_FAILURE, type Packet, type PublishPacket, type QoS } from './packets.ts';
import { DEFAULT_MAX_PACKET_BYTES, PacketParser } from './parser.ts';
import { timerScheduler, type Scheduler } from './scheduler.ts';

export type MqttStatus = 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'offline' | 'closed';

export interface MqttClientOptions {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly clientId: string;
  /** Default false: the broker keeps our subscriptions and queues QoS 1 messages while we are away. */
  readonly cleanSession?: boolean;
  /** Default 60; a PINGREQ goes out every period and a missing PINGRESP by the next one drops the link. */
  readonly keepAliveSeconds?: number;
  /** Default 10 s from the TCP connect call to the CONNACK. */
  readonly connectTimeoutMs?: number;
  /** After a lost connection; false leaves the client idle instead. */
  readonly reconnect?: false | { readonly baseMs: number; readonly maxMs: number };
  /**
   * Unacknowledged PUBLISHes (sent or waiting for the connection), default 1,000. At the limit a
   * publish is refused with MQTT_ERR_INFLIGHT_FULL: the caller backs off, we never buffer more.
   */
  readonly maxInflight?: number;
  readonly maxPacketBytes?: number;
  readonly scheduler?: Scheduler;
}

export interface MqttClientEvents {
  status: [MqttStatus];
  /** A CONNACK accepted the connection; `sessionPresent` says the broker kept our session. */
  ready: [sessionPresent: boolean];
  /** An incoming PUBLISH; at QoS 1 its PUBACK goes out after the listeners return. */
  message: [PublishPacket];
  /** A connection that had reached ready is gone. */
  disconnected: [error: Error | undefined];
}

interface Outgoing {
  packet: Buffer;
  sent: boolean;
  resolve(): void;
  reject(error: Error): void;
}

interface PendingSubscribe {
  resolve(granted: number[]): void;
  reject(error: Error): void;
}

/** One TCP connection's state; a reconnect makes a new one. */
interface Link {
  readonly socket: Socket;
  readonly parser: PacketParser;
  phase: 'awaiting-connack' | 'ready';
  error: Error | undefined;
  pingOutstanding: boolean;
  /** Cancels whichever timer is armed: the connect timeout, then the keepalive. */
  cancelTimer: () => void;
  settle: { resolve(sessionPresent: boolean): void; reject(error: Error): void } | undefined;
}

const MAX_PACKET_ID = 0xffff;

export class MqttClient extends EventEmitter<MqttClientEvents> {
  status: MqttStatus = 'idle';
  private link: Link | undefined;
  private readonly outbox = new Map<number, Outgoing>();
  private readonly subscribes = new Map<number, PendingSubscribe>();
  private lastPacketId = 0;
  private attempt = 0;
  private cancelReconnect: (() => void) | undefined;
  private readonly scheduler: Scheduler;
  private readonly maxInflight: number;

  constructor(private readonly options: MqttClientOptions) {
    super();
    this.scheduler = options.scheduler ?? timerScheduler;
    this.maxInflight = options.maxInflight ?? 1000;
    // Publishes and subscribes share the identifier space; one id stays free so allocation ends.
    if (this.maxInflight < 1 || this.maxInflight > MAX_PACKET_ID - 1) throw new RangeError(`maxInflight must be within 1–${MAX_PACKET_ID - 1}`);
  }

  /** Unacknowledged PUBLISHes. */
  get inflight(): number {
    return this.outbox.size;
  }

  /** Opens a connection; resolves with the broker's session-present flag once it is accepted. */
  connect(): Promise<boolean> {
    if (this.status === 'closed') return Promise.reject(new MqttError(MqttErrorCode.closed, 'client closed'));
    if (this.status !== 'idle' && this.status !== 'offline') return Promise.reject(new MqttError(MqttErrorCode.badState, `connect() while ${this.status}`));
    this.setStatus('connecting');
    return this.open();
  }

  /** QoS 1: resolves on the broker's PUBACK. Taken while reconnecting and sent once connected. */
  publish(topic: string, payload: Uint8Array): Promise<void> {
    if (this.status === 'closed') return Promise.reject(new MqttError(MqttErrorCode.closed, 'client closed'));
    if (this.outbox.size >= this.maxInflight) return Promise.reject(new MqttError(MqttErrorCode.inflightFull, `${this.outbox.size} publishes await PUBACK`));
    return new Promise((resolve, reject) => {
      const packetId = this.nextPacketId();
      const item: Outgoing = { packet: encodePublish({ topic, qos: 1, packetId, payload }), sent: false, resolve, reject };
      this.outbox.set(packetId, item);
      if (this.link?.phase === 'ready') this.transmit(this.link, item);
    });
  }

  /** Resolves with the granted QoS per topic; refused if the broker refuses any of them. */
  subscribe(topics: readonly string[], qos: QoS = 1): Promise<number[]> {
    const link = this.link;
    if (!link || link.phase !== 'ready') return Promise.reject(new MqttError(MqttErrorCode.connectionClosed, `subscribe() while ${this.status}`));
    return new Promise((resolve, reject) => {
      const packetId = this.nextPacketId();
      this.subscribes.set(packetId, { resolve, reject });
      link.socket.write(encodeSubscribe(packetId, topics.map((topic) => ({ topic, qos }))));
    });
  }

  /** Closes the connection as a lost network would; the client reconnects by itself. */
  dropConnection(): void {
    this.link?.socket.destroy();
  }

  /** Leaves politely (DISCONNECT) and keeps the session: pending publishes go out on the next connect(). */
  disconnect(): void {
    if (this.status === 'closed') return;
    this.cancelReconnect?.();
    this.setStatus('offline');
    this.hangUp();
  }

  /** Leaves for good: pending publishes and subscribes are refused. */
  close(): void {
    if (this.status === 'closed') return;
    this.cancelReconnect?.();
    this.setStatus('closed');
    this.hangUp();
    const error = new MqttError(MqttErrorCode.closed, 'client closed');
    for (const item of this.outbox.values()) item.reject(error);
    this.outbox.clear();
  }

  private hangUp(): void {
    const socket = this.link?.socket;
    if (!socket) return;
    if (this.link?.phase === 'ready') socket.end(DISCONNECT);
    else socket.destroy();
  }

  private open(): Promise<boolean> {
    const { host, port, localAddress, clientId } = this.options;
    const socket = tcpConnect({ host, port, ...(localAddress ? { localAddress } : {}) });
    socket.setNoDelay(true);
    return new Promise((resolve, reject) => {
      const link: Link = { socket, parser: new PacketParser(this.options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES), phase: 'awaiting-connack', error: undefined, pingOutstanding: false, cancelTimer: () => undefined, settle: { resolve, reject } };
      this.link = link;
      link.cancelTimer = this.scheduler.after(this.options.connectTimeoutMs ?? 10_000, () => socket.destroy(new MqttError(MqttErrorCode.connectTimeout, 'no CONNACK in time')));
      socket.once('connect', () => socket.write(encodeConnect({ clientId, cleanSession: this.options.cleanSession ?? false, keepAliveSeconds: this.keepAliveSeconds })));
      socket.on('data', (chunk: Buffer) => this.onData(link, chunk));
      socket.on('error', (error) => (link.error ??= error));
      socket.once('close', () => this.onClose(link));
    });
  }

  private get keepAliveSeconds(): number {
    return this.options.keepAliveSeconds ?? 60;
  }

  private onData(link: Link, chunk: Buffer): void {
    // PUBACKs for every PUBLISH in this chunk leave in one write.
    link.socket.cork();
    try {
      link.parser.push(chunk, (packet) => this.onPacket(link, packet));
    } catch (error) {
      link.socket.destroy(error as Error);
    } finally {
      link.socket.uncork();
    }
  }

  private onPacket(link: Link, packet: Packet): void {
    if (link.phase === 'awaiting-connack') {
      if (packet.type !== 'connack') throw new MqttError(MqttErrorCode.unsupported, `${packet.type} before CONNACK`);
      return this.onConnack(link, packet.sessionPresent, packet.returnCode);
    }
    switch (packet.type) {
      case 'publish':
        this.emit('message', packet);
        if (packet.qos === 1) link.socket.write(encodePuback(packet.packetId));
        return;
      case 'puback': {
        // An identifier we no longer track is an ACK of a PUBLISH the broker got twice (a resend
        // after a reconnect) and has already acknowledged: nothing is waiting for it.
        const item = this.outbox.get(packet.packetId);
        if (!item) return;
        this.outbox.delete(packet.packetId);
        return item.resolve();
      }
      case 'suback':
        return this.onSuback(packet.packetId, packet.returnCodes);
      case 'pingresp':
        link.pingOutstanding = false;
        return;
      default:
        throw new MqttError(MqttErrorCode.unsupported, `unexpected ${packet.type} from the broker`);
    }
  }

  private onConnack(link: Link, sessionPresent: boolean, returnCode: number): void {
    link.cancelTimer();
    if (returnCode !== ConnackCode.accepted) throw new MqttError(MqttErrorCode.refused, `CONNACK return code ${returnCode}`);
    link.phase = 'ready';
    this.attempt = 0;
    this.setStatus('ready');
    // Resent in the order first sent, so a receiver still sees one publisher's messages in order.
    for (const item of this.outbox.values()) this.transmit(link, item);
    this.armKeepAlive(link);
    const settle = link.settle;
    link.settle = undefined;
    this.emit('ready', sessionPresent);
    settle?.resolve(sessionPresent);
  }

  private onSuback(packetId: number, returnCodes: readonly number[]): void {
    const pending = this.subscribes.get(packetId);
    if (!pending) throw new MqttError(MqttErrorCode.unsupported, `SUBACK for unknown packet id ${packetId}`);
    this.subscribes.delete(packetId);
    if (returnCodes.includes(SUBACK_FAILURE)) pending.reject(new MqttError(MqttErrorCode.subscribeRefused, `SUBACK ${returnCodes.join(',')}`));
    else pending.resolve([...returnCodes]);
  }

  private transmit(link: Link, item: Outgoing): void {
    if (item.sent) item.packet = withDup(item.packet);
    item.sent = true;
    link.socket.write(item.packet);
  }

  private armKeepAlive(link: Link): void {
    if (this.keepAliveSeconds === 0) return;
    link.cancelTimer = this.scheduler.after(this.keepAliveSeconds * 1000, () => {
      if (link.pingOutstanding) return link.socket.destroy(new MqttError(MqttErrorCode.pingTimeout, 'no PINGRESP within a keepalive period'));
      link.pingOutstanding = true;
      link.socket.write(PINGREQ);
      this.armKeepAlive(link);
    });
  }

  private onClose(link: Link): void {
    link.cancelTimer();
    if (link !== this.link) return;
    this.link = undefined;
    const error = link.error ?? new MqttError(MqttErrorCode.connectionClosed, 'connection closed');
    // A SUBSCRIBE without its SUBACK is not resent: the caller learns and decides.
    for (const pending of this.subscribes.values()) pending.reject(error);
    this.subscribes.clear();
    if (link.phase === 'ready') this.emit('disconnected', link.error);
    link.settle?.reject(error);
    if (this.status === 'connecting') this.setStatus('idle');
    else if (this.status === 'ready' || this.status === 'reconnecting') {
      if (this.options.reconnect === false) this.setStatus('idle');
      else this.scheduleReconnect();
    }
  }

  /** Full jitter over min(max, base · 2^attempt); a failed attempt's close schedules the next. */
  private scheduleReconnect(): void {
    const policy = this.options.reconnect || { baseMs: 500, maxMs: 10_000 };
    this.setStatus('reconnecting');
    const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** this.attempt);
    this.attempt++;
    this.cancelReconnect = this.scheduler.after(Math.random() * ceiling, () => {
      this.cancelReconnect = undefined;
      // The rejection is the same failure onClose handles by scheduling the next attempt.
      if (this.status === 'reconnecting') this.open().catch(() => undefined);
    });
  }

  private nextPacketId(): number {
    if (this.outbox.size + this.subscribes.size >= MAX_PACKET_ID) throw new MqttError(MqttErrorCode.inflightFull, 'every packet identifier is in use');
    do this.lastPacketId = (this.lastPacketId % MAX_PACKET_ID) + 1;
    while (this.outbox.has(this.lastPacketId) || this.subscribes.has(this.lastPacketId));
    return this.lastPacketId;
  }

  private setStatus(status: MqttStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.emit('status', status);
  }
}
