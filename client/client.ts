/**
 * The client SDK: connects, greets, logs in, keeps the session alive, sends with resend-until-ACK,
 * receives pushes with ACKs, syncs by inbox version, orders messages by conversation seq, and
 * reconnects with jittered exponential backoff. Events tell the app what happened.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { readBody, type Frame } from '../codec/index.ts';
import { Bodies, EntryType, type BodyName, type BodyOf, type EntryRecord, type MessageRecord, type RoomMessageRecord } from '../protocol/bodies.ts';
import { ErrorCode, ERROR_INFO, ProtocolError } from '../protocol/errors.ts';
import { Opcode } from '../protocol/opcodes.ts';
import type { FieldType } from '../protocol/schema.ts';
import { Timers } from '../protocol/timers.ts';
import { catchUpGroups, GroupCursors, groupOfConversation, GroupRequests, type Requester } from './groups.ts';
import { dispatch, type Dispatched } from './dispatch.ts';
import { readBack, recoverFromHistory, type RecoveredConversation } from './recovery.ts';
import { Reorderer } from './reorder.ts';
import { ClientRooms } from './rooms.ts';
import { delay, realTime, type ClientTime } from './time.ts';
import { ConnectionClosed, ServerError, Transport, type Endpoint } from './transport.ts';

/**
 * `recovering`: logged in, rebuilding from history after the inbox lost state (SPEC §11.6);
 * requests and sends go on, inbox entries are applied again once it is over.
 */
export type ClientStatus = 'idle' | 'connecting' | 'ready' | 'recovering' | 'reconnecting' | 'closed';

/** Recoveries one sync may start before it gives up (the inbox keeps being reset under it). */
const MAX_RECOVERIES_PER_SYNC = 3;
/** Retryable sync refusals (rate limit, overload) waited out before the sync gives up. */
const MAX_SYNC_THROTTLES = 5;
const SYNC_THROTTLE_STEP_MS = 200;
/** Sync passes run back to back at most (each asked for by a gap or a connection while the last ran); the next ask starts again. */
const MAX_SYNC_RUNS = 100;

export interface ClientOptions {
  readonly endpoint: Endpoint;
  /** Other nodes of the same service: each reconnect goes to the next of [endpoint, ...alternateEndpoints], in turn. */
  readonly alternateEndpoints?: readonly Endpoint[];
  /**
   * A dispatch listener (`http://host:port`, README "Dispatch") asked before each connection
   * for the least-loaded gateway. When it cannot be asked, or the gateway it named could not be
   * reached on the previous attempt, the connection goes to `endpoint`/`alternateEndpoints`. A
   * `goAway`'s alternative goes first, without asking.
   */
  readonly dispatchUrl?: string;
  /** How long the dispatch answer may take; default 2 s. */
  readonly dispatchTimeoutMs?: number;
  readonly userId: string;
  readonly deviceId: string;
  readonly platform: number;
  readonly password?: string;
  readonly token?: string;
  /** Create the account on the first connection. */
  readonly register?: boolean;
  readonly clientName?: string;
  /** Highest inbox version this device has applied (persisted by the app); 0 for a new device. */
  readonly version?: number;
  /** The epoch of `version` (persisted by the app with it, see `inboxEpoch`); absent for a new device. */
  readonly epoch?: string;
  /** Highest seq applied per 1:1 conversation (persisted by the app, see `conversationSeqs`): where recovery reads history back to. */
  readonly conversationSeqs?: Readonly<Record<string, number>>;
  /** Clock and timers; tests pass their own to fire timers without sleeping. */
  readonly time?: ClientTime;
  readonly reconnect?: false | { readonly baseMs: number; readonly maxMs: number };
  readonly sendResendMs?: number;
  readonly gapWaitMs?: number;
  /** Highest group timeline seq this device has applied, per group id (persisted by the app, see `groupCursors`). */
  readonly groupCursors?: Readonly<Record<string, number>>;
  /** Test hook: return false to withhold the ACK of a push SID (the app still gets the entry). */
  readonly ackFilter?: (sid: number) => boolean;
}

export interface ClientEvents {
  status: [ClientStatus];
  ready: [BodyOf<'session'>];
  /** A chat message, once per message id, in seq order per conversation. */
  message: [MessageRecord];
  /** Every inbox entry, in version order (messages, read marks, recalls). */
  entry: [EntryRecord];
  kicked: [BodyOf<'kick'>];
  goAway: [BodyOf<'goAway'>];
  /** The dispatch listener could not be asked; the connection went to the configured endpoint. */
  dispatchFailed: [Error];
  disconnected: [Error | undefined];
  serverError: [ServerError];
  /** A sync, recovery or gap fetch failed (not only with a server error); the next sync or connection tries again. */
  syncError: [Error];
  /** A recovery from history finished: how many conversations were read back and messages found. */
  recovered: [{ readonly epoch: string | undefined; readonly conversations: number; readonly messages: number }];
  /** A live room message: ordinary ones as they come, reliable ones once each, in seq order per room. */
  roomMessage: [string, RoomMessageRecord];
  /** The server dropped this many ordinary messages of a room for this connection (it was reading too slowly). */
  roomDropped: [string, number];
  /** The server took this connection out of a room (a slow viewer); join again to continue. */
  roomLeft: [BodyOf<'roomLeft'>];
}

interface Outgoing {
  readonly body: BodyOf<'send'> | BodyOf<'groupSend'>;
  attempts: number;
  inFlight: boolean;
  timer: NodeJS.Timeout | undefined;
  resolve(ack: BodyOf<'sendAck'>): void;
  reject(error: Error): void;
}

const SEEN_LIMIT = 50_000;
const MAX_HELD_GROUP_PUSHES = 10_000;

export class Client extends EventEmitter<ClientEvents> {
  status: ClientStatus = 'idle';
  session: BodyOf<'session'> | undefined;
  serverHello: BodyOf<'serverHello'> | undefined;
  /** Server time minus local time, from the last server hello. */
  clockOffsetMs = 0;
  private transport: Transport | undefined;
  private version: number;
  private epoch: string | undefined;
  private readonly time: ClientTime;
  /**
   * Per conversation, the seq up to which the last recovery read history: the sync after it
   * replays the epoch's entries from its start, and their messages up to here were shown already
   * or passed over (even by an earlier run of the app, whose `seen` this one does not have).
   */
  private coveredByHistory = new Map<string, number>();
  private token: string | undefined;
  private registered: boolean;
  private readonly outbox = new Map<string, Outgoing>();
  private readonly seen = new Set<string>();
  private readonly reorder: Reorderer;
  private msgCounter = 0;
  private readonly msgPrefix = randomBytes(4).toString('hex');
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** Which of endpoint and alternateEndpoints the next connection goes to. */
  private endpointIndex = 0;
  /** The first alternative of the last goAway: the next connection tries it once (SPEC §13.2). */
  private redirect: Endpoint | undefined;
  /** The last connection went to the dispatched gateway and did not get a session: skip dispatch once. */
  private dispatchedFailed = false;
  private highestSid = 0;
  private ackScheduled = false;
  private syncing: Promise<void> | undefined;
  private readonly rooms: ClientRooms;
  private syncAgain = false;
  private readonly cursors: GroupCursors;
  /**
   * Group pushes that arrive while the device catches up on its groups wait here, so a live entry
   * never lands before the older ones being pulled (and never moves a cursor past them).
   */
  private heldGroupPushes: MessageRecord[] | undefined;
  /** Group requests (SPEC §18); posts go through `sendToGroup`, which resends until ACKed. */
  readonly groups: GroupRequests;

  constructor(private readonly options: ClientOptions) {
    super();
    this.version = options.version ?? 0;
    this.epoch = options.epoch;
    this.time = options.time ?? realTime;
    this.token = options.token;
    this.registered = !options.register;
    this.cursors = new GroupCursors(options.groupCursors);
    this.groups = new GroupRequests(this.requestByName);
    this.reorder = new Reorderer(
      { release: (m) => this.release(m), fetchGap: (c, after, before) => this.fetchGap(c, after, before), failed: (error) => this.reportSyncError(error) },
      options.gapWaitMs ?? 500,
      this.time,
    );
    for (const [conversationId, seq] of Object.entries(options.conversationSeqs ?? {})) this.reorder.seed(conversationId, seq);
    this.rooms = new ClientRooms(
      {
        join: (roomId) => this.request(Opcode.roomJoin, Bodies.roomJoin, { roomId }, Bodies.roomJoined),
        pull: (roomId, afterSeq) => this.request(Opcode.roomPull, Bodies.roomPull, { roomId, afterSeq }, Bodies.roomPage),
      },
      { message: (roomId, message) => this.emit('roomMessage', roomId, message), dropped: (roomId, count) => this.emit('roomDropped', roomId, count) },
    );
  }

  get inboxVersion(): number {
    return this.version;
  }

  /** The epoch of `inboxVersion`, for the app to persist with it. */
  get inboxEpoch(): string | undefined {
    return this.epoch;
  }

  /** The highest seq applied per 1:1 conversation, for the app to persist and pass back as `conversationSeqs`. */
  get conversationSeqs(): Record<string, number> {
    const seqs: Record<string, number> = {};
    for (const [conversationId, seq] of this.reorder.lastSeqs()) if (groupOfConversation(conversationId) === undefined) seqs[conversationId] = seq;
    return seqs;
  }

  /** The highest seq applied per group, for the app to persist and pass back as `groupCursors`. */
  get groupCursors(): Record<string, number> {
    return this.cursors.snapshot();
  }

  get pendingSends(): number {
    return this.outbox.size;
  }

  /** Connects and logs in; resolves once the session is ready and the inbox is synced. */
  async connect(): Promise<BodyOf<'session'>> {
    this.setStatus('connecting');
    try {
      return await this.open();
    } catch (error) {
      this.setStatus('closed');
      throw error;
    }
  }

  /** Sends a message; resolves with the server's ACK, resending (same client id) until it comes. */
  send(to: string, content: string, kind = 1): Promise<BodyOf<'sendAck'>> {
    return this.enqueue((clientMsgId) => ({ clientMsgId, to, kind, content }));
  }

  /** Posts to a group; resolves with the server's ACK, resending (same client id) until it comes. */
  sendToGroup(groupId: string, content: string, kind = 1): Promise<BodyOf<'sendAck'>> {
    return this.enqueue((clientMsgId) => ({ clientMsgId, groupId, kind, content }));
  }

  private enqueue(body: (clientMsgId: string) => Outgoing['body']): Promise<BodyOf<'sendAck'>> {
    const clientMsgId = `${this.options.deviceId}-${this.msgPrefix}-${++this.msgCounter}`;
    return new Promise((resolve, reject) => {
      const item: Outgoing = { body: body(clientMsgId), attempts: 0, inFlight: false, timer: undefined, resolve, reject };
      this.outbox.set(clientMsgId, item);
      this.trySend(item);
    });
  }

  history(conversationId: string, beforeSeq?: number, limit?: number): Promise<BodyOf<'historyPage'>> {
    return this.request(Opcode.history, Bodies.history, { conversationId, beforeSeq, limit }, Bodies.historyPage);
  }

  conversations(limit?: number): Promise<BodyOf<'conversationList'>> {
    return this.request(Opcode.conversations, Bodies.conversations, { limit }, Bodies.conversationList);
  }

  /** Marks a conversation read up to `seq`; the user's other devices and the peer are told. */
  async markRead(conversationId: string, seq: number): Promise<void> {
    await this.request(Opcode.markRead, Bodies.markRead, { conversationId, seq }, Bodies.ok);
  }

  /** Recalls one's own message within the server's recall window. */
  async recall(conversationId: string, seq: number): Promise<void> {
    await this.request(Opcode.recall, Bodies.recall, { conversationId, seq }, Bodies.ok);
  }

  /** Hides a message from this user's history only. */
  async deleteForMe(conversationId: string, seq: number): Promise<void> {
    await this.request(Opcode.deleteForMe, Bodies.deleteForMe, { conversationId, seq }, Bodies.ok);
  }

  /** Joins a live room (and again after each reconnect); its messages arrive as `roomMessage` events. */
  joinRoom(roomId: string): Promise<BodyOf<'roomJoined'>> {
    return this.rooms.join(roomId);
  }

  async leaveRoom(roomId: string): Promise<void> {
    this.rooms.forget(roomId);
    await this.request(Opcode.roomLeave, Bodies.roomLeave, { roomId }, Bodies.ok);
  }

  /** Sends to a room. Reliable messages (gifts) are stored with the room's seq and reach every viewer. */
  sendRoom(roomId: string, content: string, options: { reliable?: boolean; kind?: number } = {}): Promise<BodyOf<'roomSendAck'>> {
    const clientMsgId = `${this.options.deviceId}-${this.msgPrefix}-${++this.msgCounter}`;
    const body = { roomId, clientMsgId, kind: options.kind ?? 1, content, reliable: options.reliable ?? false };
    return this.request(Opcode.roomSend, Bodies.roomSend, body, Bodies.roomSendAck);
  }

  /** Closes for good: no reconnect; pending sends are rejected. */
  close(): void {
    this.setStatus('closed');
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reorder.clear();
    this.transport?.close();
    for (const item of this.outbox.values()) {
      if (item.timer) clearTimeout(item.timer);
      item.reject(new Error('client closed'));
    }
    this.outbox.clear();
  }

  /** Test and tooling access to the live connection (e.g. to drop it as a bad network would). */
  get connection(): Transport | undefined {
    return this.transport;
  }

  private async open(): Promise<BodyOf<'session'>> {
    const redirect = this.redirect;
    this.redirect = undefined;
    const dispatched = redirect ? undefined : await this.dispatched();
    const endpoints = [this.options.endpoint, ...(this.options.alternateEndpoints ?? [])];
    const target = redirect ?? dispatched ?? endpoints[this.endpointIndex % endpoints.length]!;
    // Cleared once a session is ready; a failure before that sends the next attempt past dispatch.
    this.dispatchedFailed = dispatched !== undefined;
    const transport = await Transport.open(target);
    this.transport = transport;
    transport.on('frame', (frame) => this.onFrame(transport, frame));
    transport.on('close', (error) => this.onClose(transport, error));
    const sentAt = Date.now();
    const hello = await transport.request(Opcode.hello, Bodies.hello, { version: 1, client: this.options.clientName ?? 'tern-sdk/0.1' }, Bodies.serverHello);
    this.serverHello = hello;
    this.clockOffsetMs = hello.serverTime - Math.round((sentAt + Date.now()) / 2);
    this.heldGroupPushes = [];
    const session = await this.authenticate(transport);
    this.session = session;
    this.token = session.token;
    this.attempt = 0;
    this.dispatchedFailed = false;
    transport.startHeartbeat(hello.heartbeatMs);
    this.setStatus('ready');
    await this.syncNow();
    await this.catchUpGroups();
    for (const item of this.outbox.values()) this.trySend(item);
    void this.rooms.rejoin();
    this.emit('ready', session);
    return session;
  }

  /** The gateway the dispatch listener names first, in this client's transport; undefined to use the configured ones. */
  private async dispatched(): Promise<Endpoint | undefined> {
    const url = this.options.dispatchUrl;
    if (url === undefined || this.dispatchedFailed) {
      this.dispatchedFailed = false;
      return undefined;
    }
    let first: Dispatched | undefined;
    try {
      [first] = await dispatch(url, this.options.userId, this.options.dispatchTimeoutMs ?? 2_000);
    } catch (error) {
      // Not fatal: dispatch is advice, and the configured address still serves.
      this.emit('dispatchFailed', error instanceof Error ? error : new Error(String(error)));
      return undefined;
    }
    if (!first) return undefined;
    const { tls, localAddress } = this.options.endpoint;
    const local = localAddress !== undefined ? { localAddress } : {};
    if (!tls) return { host: first.host, port: first.port, ...local };
    return first.tlsPort === undefined ? undefined : { host: first.host, port: first.tlsPort, tls, ...local };
  }

  private authenticate(transport: Transport): Promise<BodyOf<'session'>> {
    const { userId, deviceId, platform, password } = this.options;
    if (!this.registered && password !== undefined) {
      return transport.request(Opcode.register, Bodies.register, { userId, password, deviceId, platform }, Bodies.session).then((session) => {
        this.registered = true;
        return session;
      });
    }
    if (this.token === undefined) return transport.request(Opcode.login, Bodies.login, { userId, deviceId, platform, password }, Bodies.session);
    return transport.request(Opcode.login, Bodies.login, { userId, deviceId, platform, token: this.token }, Bodies.session).catch((error: unknown) => {
      // A token the server no longer knows (revoked, expired, or lost with its hot store): the
      // password, when the app gave one, logs in again (SPEC §17: on 2003 discard the token).
      if (!(error instanceof ServerError) || error.code !== ErrorCode.badToken || password === undefined) throw error;
      this.token = undefined;
      return transport.request(Opcode.login, Bodies.login, { userId, deviceId, platform, password }, Bodies.session);
    });
  }

  private readonly requestByName: Requester = <Q extends BodyName, R extends BodyName>(q: Q, body: BodyOf<Q>, r: R) =>
    this.request(Opcode[q], Bodies[q] as never, body, Bodies[r] as never) as Promise<BodyOf<R>>;

  private request<Req, Rep>(opcode: number, schema: FieldType<Req>, body: Req, reply: FieldType<Rep>): Promise<Rep> {
    const transport = this.transport;
    if (!transport || !this.loggedIn()) return Promise.reject(new ProtocolError(ErrorCode.notAuthenticated, 'not connected'));
    return transport.request(opcode, schema, body, reply);
  }

  private loggedIn(): boolean {
    return this.status === 'ready' || this.status === 'recovering';
  }

  private trySend(item: Outgoing): void {
    if (item.inFlight || !this.loggedIn() || !this.transport) return;
    item.inFlight = true;
    item.attempts++;
    const resendMs = Math.min(this.options.sendResendMs ?? Timers.sendResendMs, Timers.sendResendMaxMs);
    const timeout = Math.min(resendMs * 2 ** (item.attempts - 1), Timers.sendResendMaxMs);
    const sent =
      'groupId' in item.body
        ? this.transport.request(Opcode.groupSend, Bodies.groupSend, item.body, Bodies.sendAck, timeout)
        : this.transport.request(Opcode.send, Bodies.send, item.body, Bodies.sendAck, timeout);
    sent.then(
      (ack) => {
        this.outbox.delete(item.body.clientMsgId);
        // Our own carbon: this device already has it, so a later sync must not report it as incoming.
        this.remember(ack.messageId);
        this.reorder.own(ack.conversationId, ack.seq);
        const groupId = groupOfConversation(ack.conversationId);
        if (groupId !== undefined) this.cursors.advance(groupId, ack.seq);
        // A version of another epoch says nothing about this one (SPEC §11.4).
        if (ack.version === this.version + 1 && ack.epoch === this.epoch) this.version = ack.version;
        item.resolve(ack);
      },
      (error: Error) => {
        item.inFlight = false;
        const retryable = !(error instanceof ServerError) || ERROR_INFO[error.code].retry;
        if (!retryable) {
          this.outbox.delete(item.body.clientMsgId);
          return item.reject(error);
        }
        // Resent with the same client id on a later attempt or on the next connection.
        item.timer = setTimeout(() => this.trySend(item), error instanceof ServerError ? timeout : 0);
      },
    );
  }

  private onFrame(transport: Transport, frame: Frame): void {
    try {
      if (frame.opcode === Opcode.push) return this.onPush(transport, frame.requestId, readBody(frame, Bodies.push));
      if (frame.opcode === Opcode.roomPush) return this.rooms.onBatch(frame.requestId, readBody(frame, Bodies.roomPush));
      if (frame.opcode === Opcode.roomLeft) {
        const left = readBody(frame, Bodies.roomLeft);
        this.rooms.suspend(left.roomId);
        return void this.emit('roomLeft', left);
      }
      if (frame.opcode === Opcode.kick) {
        this.emit('kicked', readBody(frame, Bodies.kick));
        return this.close();
      }
      if (frame.opcode === Opcode.goAway) return this.onGoAway(transport, readBody(frame, Bodies.goAway));
      if (frame.opcode === Opcode.error) {
        const body = readBody(frame, Bodies.error);
        this.emit('serverError', new ServerError(body.code, body.message));
      }
    } catch (error) {
      this.emit('serverError', new ServerError((error as ProtocolError).code ?? ErrorCode.badBody, (error as Error).message));
    }
  }

  private onPush(transport: Transport, sid: number, entry: EntryRecord): void {
    if (this.options.ackFilter?.(sid) !== false && sid > this.highestSid) {
      this.highestSid = sid;
      this.scheduleAck(transport);
    }
    this.apply(entry, false);
  }

  /** ACKs are cumulative: one ACK for the highest SID covers every push read in the same turn. */
  private scheduleAck(transport: Transport): void {
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    setImmediate(() => {
      this.ackScheduled = false;
      if (transport === this.transport) transport.notify(Opcode.pushAck, 0, Bodies.pushAck, { upTo: this.highestSid });
    });
  }

  private apply(entry: EntryRecord, fromSync: boolean): void {
    // A group timeline entry pushed without an inbox entry (SPEC §18.4): ordered by the group's seq.
    if (entry.version === 0) {
      if (entry.type !== EntryType.message || !entry.message || groupOfConversation(entry.conversationId) === undefined) return;
      if (!this.heldGroupPushes) return this.applyTimeline(entry.message);
      // Beyond the bound a held push is dropped; the gap it leaves is filled from history.
      if (this.heldGroupPushes.length < MAX_HELD_GROUP_PUSHES) this.heldGroupPushes.push(entry.message);
      return;
    }
    // Everything pushed is in the inbox: while recovering, the sync that ends the recovery brings it.
    if (!fromSync && this.status === 'recovering') return;
    if (!fromSync && entry.epoch !== undefined && entry.epoch !== this.epoch) {
      // Another epoch: the sync finds out whether this device must recover (SPEC §11.4).
      void this.syncNow();
      return;
    }
    if (entry.version <= this.version) return;
    if (!fromSync && entry.version > this.version + 1) {
      void this.syncNow();
      return;
    }
    this.version = entry.version;
    this.emit('entry', entry);
    const message = entry.type === EntryType.message ? entry.message : undefined;
    if (!message || this.seen.has(message.messageId)) return;
    this.remember(message.messageId);
    if (message.seq <= (this.coveredByHistory.get(message.conversationId) ?? 0)) return;
    // Our own send, synced back (as a carbon) before its ACK arrived: not an incoming message.
    if (message.from === this.options.userId && this.outbox.has(message.clientMsgId)) return this.reorder.own(message.conversationId, message.seq);
    this.reorder.add(message);
  }

  private applyTimeline(message: MessageRecord): void {
    if (this.seen.has(message.messageId)) return;
    this.remember(message.messageId);
    if (message.from === this.options.userId && this.outbox.has(message.clientMsgId)) return this.reorder.own(message.conversationId, message.seq);
    this.reorder.add(message);
  }

  private release(message: MessageRecord): void {
    // Seen once shown: the same message coming again (by push, sync or a history read) is not shown twice.
    this.remember(message.messageId);
    const groupId = groupOfConversation(message.conversationId);
    if (groupId !== undefined) this.cursors.advance(groupId, message.seq);
    this.emit('message', message);
  }

  /** Pulls group timeline entries this device lacks; a failure is reported, and the next connection tries again. */
  private async catchUpGroups(): Promise<void> {
    try {
      await catchUpGroups(this.requestByName, this.cursors, (conversationId, seq) => this.reorder.seed(conversationId, seq), (message) => this.applyTimeline(message));
    } catch (error) {
      this.reportSyncError(error);
    } finally {
      const held = this.heldGroupPushes ?? [];
      this.heldGroupPushes = undefined;
      for (const message of held) this.applyTimeline(message);
    }
  }

  private remember(messageId: string): void {
    this.seen.add(messageId);
    if (this.seen.size > SEEN_LIMIT) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  /**
   * Pulls pages until an empty one; each request acknowledges the page before it. A sync asked
   * for while one runs (a gap, a new connection) runs after it, also when the running one failed
   * (its connection dropped): otherwise a reconnect during a sync would never sync.
   */
  private syncNow(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      try {
        for (let runs = 0; runs < MAX_SYNC_RUNS; runs++) {
          this.syncAgain = false;
          try {
            await this.syncPass();
          } catch (error) {
            this.reportSyncError(error);
          }
          if (!this.syncAgain || !this.loggedIn()) break;
        }
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  private async syncPass(): Promise<void> {
    let recoveries = 0;
    for (let throttled = 0; ; ) {
      const page = await this.request(Opcode.sync, Bodies.sync, { sinceVersion: this.version, ...(this.epoch !== undefined ? { epoch: this.epoch } : {}) }, Bodies.syncPage).catch((error: unknown) => {
        // A retryable refusal (rate limit, overload) is waited out a few times; 3005 starts a recovery.
        if (error instanceof ServerError && error.code === ErrorCode.versionTooOld) return 'tooOld' as const;
        if (error instanceof ServerError && ERROR_INFO[error.code].retry && throttled++ < MAX_SYNC_THROTTLES) return undefined;
        throw error;
      });
      if (page === undefined) {
        await delay(this.time, SYNC_THROTTLE_STEP_MS * throttled);
        continue;
      }
      if (page === 'tooOld' || page.reset) {
        if (++recoveries > MAX_RECOVERIES_PER_SYNC) throw new Error(`the inbox was reset ${recoveries - 1} times during one sync; the next sync tries again`);
        const session = this.session;
        // After 3005 the session's position is where the inbox still holds entries (SPEC §11.3);
        // after a reset page, this epoch's entries are synced from its start.
        const restart = page === 'tooOld' ? { epoch: session?.epoch ?? this.epoch, version: session?.version ?? 0 } : { epoch: page.epoch, version: 0 };
        await this.recover(restart.epoch);
        this.version = restart.version;
        this.epoch = restart.epoch;
        continue;
      }
      if (page.epoch !== undefined) this.epoch = page.epoch;
      for (const entry of page.entries) this.apply(entry, true);
      // Ahead of the inbox (state the server no longer has): move back to it, or the entries
      // numbered next would be taken for ones already applied (SPEC §11.3).
      if (page.entries.length === 0 && page.lastVersion < this.version) this.version = page.lastVersion;
      if (page.entries.length === 0) break;
    }
  }

  /** Reads what this device lacks back from history (SPEC §11.6); pushes wait meanwhile. */
  private async recover(epoch: string | undefined): Promise<void> {
    this.setStatus('recovering');
    try {
      const result = await recoverFromHistory(
        {
          conversations: (limit) => this.conversations(limit),
          history: (conversationId, beforeSeq, limit) => this.history(conversationId, beforeSeq, limit),
        },
        this.reorder.lastSeqs(),
        (conversation) => this.applyRecovered(conversation),
        (conversationId) => groupOfConversation(conversationId) === undefined,
      );
      this.coveredByHistory = this.reorder.lastSeqs();
      this.emit('recovered', { epoch, ...result });
    } finally {
      if (this.status === 'recovering') this.setStatus('ready');
    }
  }

  private applyRecovered({ conversationId, messages }: RecoveredConversation): void {
    const items = messages.map((message) => {
      if (this.seen.has(message.messageId)) return { seq: message.seq, message: null };
      this.remember(message.messageId);
      // This device's own send, not yet ACKed: matched to the outbox, not shown as incoming.
      if (message.from === this.options.userId && this.outbox.has(message.clientMsgId)) return { seq: message.seq, message: null };
      return { seq: message.seq, message };
    });
    this.reorder.catchUp(conversationId, items);
  }

  /** Reports a failed sync, recovery or gap fetch; a dropped connection is reported by `disconnected` instead. */
  private reportSyncError(error: unknown): void {
    if (error instanceof ServerError) this.emit('serverError', error);
    if (error instanceof ConnectionClosed) return;
    if (error instanceof ProtocolError && error.code === ErrorCode.notAuthenticated && !this.loggedIn()) return;
    this.emit('syncError', error instanceof Error ? error : new Error(String(error)));
  }

  private async fetchGap(conversationId: string, afterSeq: number, beforeSeq: number): Promise<MessageRecord[]> {
    // Paged back to afterSeq: a gap can be longer than one page (a device that missed pushes for a while).
    const { messages } = await readBack({ history: (c, before, limit) => this.history(c, before, limit) }, conversationId, afterSeq, beforeSeq);
    const found: MessageRecord[] = [];
    for (const message of messages) {
      if (this.seen.has(message.messageId)) continue;
      // This device's own send, not yet ACKed: not an incoming message.
      if (message.from === this.options.userId && this.outbox.has(message.clientMsgId)) {
        this.remember(message.messageId);
        this.reorder.own(conversationId, message.seq);
      } else found.push(message);
    }
    // Not remembered here: a found message is remembered when it is released, and one that is not
    // (the conversation moved past it meanwhile) may still come by push, sync or recovery.
    return found;
  }

  private onGoAway(transport: Transport, body: BodyOf<'goAway'>): void {
    this.emit('goAway', body);
    const next = body.alternatives?.[0];
    // The same transport as now: a TLS client goes only where the alternative serves TLS, with its options.
    const { tls } = this.options.endpoint;
    if (next && !tls) this.redirect = { host: next.host, port: next.port };
    else if (next && tls && next.tlsPort !== undefined) this.redirect = { host: next.host, port: next.tlsPort, tls };
    setTimeout(() => transport.close(), Math.min(body.reconnectAfterMs, 60_000)).unref();
  }

  private onClose(transport: Transport, error: Error | undefined): void {
    if (transport !== this.transport) return;
    for (const item of this.outbox.values()) item.inFlight = false;
    this.emit('disconnected', error);
    if (this.status === 'closed' || this.options.reconnect === false) return this.setStatus('closed');
    this.setStatus('reconnecting');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const policy = this.options.reconnect || { baseMs: Timers.reconnectBaseMs, maxMs: Timers.reconnectMaxMs };
    const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** this.attempt);
    this.attempt++;
    if (this.options.alternateEndpoints?.length) this.endpointIndex++;
    this.reconnectTimer = setTimeout(() => {
      if (this.status !== 'reconnecting') return;
      const previous = this.transport;
      this.open().catch((error: unknown) => {
        if (error instanceof ServerError && !ERROR_INFO[error.code].retry) return this.close();
        // A connection that opened and then failed reports its own close, which schedules the
        // next attempt; one that never opened needs it scheduled here.
        if (this.transport !== previous) this.transport?.destroy(undefined);
        else if (this.status === 'reconnecting') this.scheduleReconnect();
      });
    }, Math.random() * ceiling);
  }

  private setStatus(status: ClientStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.emit('status', status);
  }
}
