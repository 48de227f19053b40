/**
 * One simulated phone: a Client of the SDK with a device id and a platform, that can lose its
 * network (the SDK reconnects with backoff) or go offline for a while (the app is closed and
 * reopened later, resuming from the inbox version it had).
 */
import { Client } from '../client/client.ts';
import { ServerError } from '../client/transport.ts';
import { MAX_GROUP_INVITES, Platform, type MessageRecord, type RoomMessageRecord } from '../protocol/bodies.ts';
import { ErrorCode } from '../protocol/errors.ts';
import type { Scenario } from './scenario.ts';

const PLATFORMS = [Platform.android, Platform.ios, Platform.desktop, Platform.web];

/** What a worker needs of a simulated phone, whatever protocol it speaks (tern, or MQTT in mqtt/). */
/** Where a device connects: a server address, and a local address to bind when one is given. */
export interface DeviceAddress {
  readonly host: string;
  readonly localAddress?: string;
}

export interface SimulatedDevice {
  readonly userId: string;
  readonly index: number;
  /** `user/device`, the checker's name for it. */
  readonly key: string;
  /** Connected now. */
  readonly ready: boolean;
  /** Takes a send now or holds it until the connection is back; false while the app is closed. */
  readonly canSend: boolean;
  /** Whether the sender's other devices get a copy of what it sends, and so must receive it. */
  readonly carbons: boolean;
  /** Connects (registering the user on the first run where the protocol has accounts); resolves when ready. */
  connect(register: boolean): Promise<void>;
  /** Resolves when the server (or broker) has acknowledged the message. */
  send(to: string, content: string): Promise<{ readonly messageId: string }>;
  /** Live rooms (tern only): joins the room, and again whenever the app is reopened. */
  joinRoom?(roomId: string): Promise<void>;
  sendRoom?(roomId: string, content: string, reliable: boolean): Promise<{ readonly messageId: string; readonly seq: number }>;
  /** Groups, where the protocol has them: creates one with these members and returns its id. */
  createGroup?(name: string, members: readonly string[]): Promise<string>;
  /** Posts to a group; resolves when the server has acknowledged it. */
  sendToGroup?(groupId: string, content: string): Promise<{ readonly messageId: string }>;
  /** Drops the connection as a lost network would; the device reconnects by itself. */
  dropConnection(): void;
  /** Live rooms: stops reading the connection for `ms` (a slow viewer). */
  stallReads?(ms: number): void;
  /** Closes the app for `ms`, then opens it again. */
  goOffline(ms: number): Promise<void>;
  close(): void;
}

export interface DeviceHooks {
  message(device: SimulatedDevice, message: MessageRecord): void;
  connected(device: SimulatedDevice, first: boolean): void;
  disconnected(device: SimulatedDevice): void;
  roomMessage?(device: SimulatedDevice, roomId: string, message: RoomMessageRecord): void;
  roomDropped?(device: SimulatedDevice, count: number): void;
  /** The server took the device out of a room (too slow). */
  roomLeft?(device: SimulatedDevice, roomId: string): void;
}

/** Brings a device that went offline back after `ms`: it resolves once the device is connected again or gave up. */
export function reopenAfter(device: { offline: boolean; connect(register: boolean): Promise<void> }, ms: number): Promise<void> {
  return new Promise((resolve) => {
    setTimeout(() => {
      device.offline = false;
      device.connect(false).then(resolve, resolve);
    }, ms);
  });
}

export class Device implements SimulatedDevice {
  readonly carbons = true;
  client: Client | undefined;
  readonly deviceId: string;
  private version = 0;
  /** The epoch of `version` and the seq shown per conversation: what an app persists so a reopen can recover (SPEC §11.6). */
  private epoch: string | undefined;
  private conversationSeqs: Record<string, number> = {};
  private groupCursors: Record<string, number> = {};
  private token: string | undefined;
  private everConnected = false;
  /** Counted as online by the worker: between a 'ready' and the next 'disconnected'. */
  online = false;
  /** True while the app is deliberately closed (churn), as opposed to a dropped connection. */
  offline = false;
  /** Rooms joined; the SDK joins them again after a reconnect, and a reopened app here. */
  private readonly rooms: string[] = [];

  constructor(
    readonly userId: string,
    readonly index: number,
    private readonly scenario: Scenario,
    private readonly address: DeviceAddress,
    private readonly hooks: DeviceHooks,
  ) {
    this.deviceId = `${userId}-d${index}`;
  }

  get key(): string {
    return `${this.userId}/${this.deviceId}`;
  }

  get ready(): boolean {
    return this.client?.status === 'ready';
  }

  /** The SDK queues sends while it reconnects. */
  get canSend(): boolean {
    return this.client !== undefined && !this.offline;
  }

  send(to: string, content: string): Promise<{ readonly messageId: string }> {
    if (!this.client) return Promise.reject(new Error('device is offline'));
    return this.client.send(to, content);
  }

  async createGroup(name: string, members: readonly string[]): Promise<string> {
    if (!this.client) throw new Error('device is offline');
    const others = members.filter((m) => m !== this.userId);
    const { groupId } = await this.client.groups.create(name, others.slice(0, MAX_GROUP_INVITES));
    for (let i = MAX_GROUP_INVITES; i < others.length; i += MAX_GROUP_INVITES) await this.client.groups.invite(groupId, others.slice(i, i + MAX_GROUP_INVITES));
    return groupId;
  }

  sendToGroup(groupId: string, content: string): Promise<{ readonly messageId: string }> {
    if (!this.client) return Promise.reject(new Error('device is offline'));
    return this.client.sendToGroup(groupId, content);
  }

  async joinRoom(roomId: string): Promise<void> {
    if (!this.rooms.includes(roomId)) this.rooms.push(roomId);
    await this.client?.joinRoom(roomId);
  }

  sendRoom(roomId: string, content: string, reliable: boolean): Promise<{ readonly messageId: string; readonly seq: number }> {
    if (!this.client) return Promise.reject(new Error('device is offline'));
    return this.client.sendRoom(roomId, content, { reliable });
  }

  /** Connects (registering the user from device 0 on the first run); resolves when ready. */
  async connect(register: boolean): Promise<void> {
    try {
      await this.open(register && this.token === undefined);
    } catch (error) {
      if (!(error instanceof ServerError && error.code === ErrorCode.userExists)) throw error;
      await this.open(false);
    }
  }

  /** Drops the connection as a lost network would; the SDK reconnects by itself. */
  dropConnection(): void {
    this.client?.connection?.destroy(undefined);
  }

  stallReads(ms: number): void {
    this.client?.connection?.pauseReads(ms);
  }

  /** Closes the app for `ms`, then opens it again from the version it had. */
  goOffline(ms: number): Promise<void> {
    this.offline = true;
    this.version = this.client?.inboxVersion ?? this.version;
    this.epoch = this.client?.inboxEpoch ?? this.epoch;
    this.conversationSeqs = this.client?.conversationSeqs ?? this.conversationSeqs;
    this.groupCursors = this.client?.groupCursors ?? this.groupCursors;
    this.client?.close();
    this.client = undefined;
    return reopenAfter(this, ms);
  }

  close(): void {
    this.client?.close();
  }

  private async open(register: boolean): Promise<void> {
    const { scenario } = this;
    const client = new Client({
      endpoint: {
        host: this.address.host,
        port: scenario.port,
        ...(this.address.localAddress ? { localAddress: this.address.localAddress } : {}),
        ...(scenario.tls ? { tls: { rejectUnauthorized: false } } : {}),
      },
      userId: this.userId,
      deviceId: this.deviceId,
      platform: PLATFORMS[this.index % PLATFORMS.length] as number,
      password: scenario.password,
      register,
      version: this.version,
      ...(this.epoch !== undefined ? { epoch: this.epoch } : {}),
      conversationSeqs: this.conversationSeqs,
      groupCursors: this.groupCursors,
      ...(this.token ? { token: this.token } : {}),
      reconnect: { baseMs: 500, maxMs: 10_000 },
      clientName: 'tern-loadgen/0.1',
    });
    client.on('message', (m) => this.hooks.message(this, m));
    client.on('roomMessage', (roomId, m) => this.hooks.roomMessage?.(this, roomId, m));
    client.on('roomDropped', (_roomId, count) => this.hooks.roomDropped?.(this, count));
    client.on('roomLeft', ({ roomId }) => this.hooks.roomLeft?.(this, roomId));
    client.on('disconnected', () => {
      if (!this.online) return;
      this.online = false;
      this.hooks.disconnected(this);
    });
    client.on('ready', () => {
      this.online = true;
      this.hooks.connected(this, !this.everConnected);
      this.everConnected = true;
    });
    this.client = client;
    const session = await client.connect();
    this.token = session.token;
    for (const roomId of this.rooms) await client.joinRoom(roomId);
  }
}
