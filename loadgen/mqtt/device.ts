/**
 * One simulated phone on an MQTT broker, the same role as ../device.ts plays on a tern server:
 * client id = device id, a persistent session subscribed at QoS 1 to its user's topic `u/<user>`,
 * and a send is a QoS 1 PUBLISH to the partner's topic, acknowledged by the broker's PUBACK.
 *
 * A broker assigns no sequence, so the sending device numbers its messages per partner and the
 * checker's conversation is that stream (`<sending device>><partner>`): the order a receiver can
 * be promised is one publisher's order, which is what MQTT promises (section 4.6).
 */
import type { MessageRecord } from '../../protocol/bodies.ts';
import { reopenAfter, type DeviceAddress, type DeviceHooks, type SimulatedDevice } from '../device.ts';
import type { Scenario } from '../scenario.ts';
import { MqttClient } from './client.ts';
import { MqttError, MqttErrorCode } from './errors.ts';
import type { PublishPacket } from './packets.ts';
import { decodeLoadMessage, encodeLoadMessage } from './payload.ts';

export const userTopic = (userId: string): string => `u/${userId}`;

/** The kind the tern protocol gives a text message, so records look alike in both runs. */
const TEXT_KIND = 1;

export class MqttDevice implements SimulatedDevice {
  readonly deviceId: string;
  readonly carbons = false;
  /** True while the app is deliberately closed (churn), as opposed to a dropped connection. */
  offline = false;
  private readonly client: MqttClient;
  private readonly topic: string;
  private readonly seqByPartner = new Map<string, number>();
  private everConnected = false;
  private subscribed = false;
  private sent = 0;

  constructor(
    readonly userId: string,
    readonly index: number,
    scenario: Scenario,
    address: DeviceAddress,
    private readonly hooks: DeviceHooks,
  ) {
    this.deviceId = `${userId}-d${index}`;
    this.topic = userTopic(userId);
    this.client = new MqttClient({
      host: address.host,
      port: scenario.port,
      ...(address.localAddress ? { localAddress: address.localAddress } : {}),
      clientId: this.deviceId,
      cleanSession: false,
      reconnect: { baseMs: 500, maxMs: 10_000 },
    });
    this.client.on('ready', (sessionPresent) => this.onReady(sessionPresent));
    this.client.on('disconnected', () => this.hooks.disconnected(this));
    this.client.on('message', (packet) => this.onPublish(packet));
  }

  get key(): string {
    return `${this.userId}/${this.deviceId}`;
  }

  get ready(): boolean {
    return this.client.status === 'ready';
  }

  get canSend(): boolean {
    return !this.offline && (this.client.status === 'ready' || this.client.status === 'reconnecting');
  }

  /** Connects; the first time, subscribes too (the persistent session keeps the subscription). */
  async connect(_register: boolean): Promise<void> {
    const sessionPresent = await this.client.connect();
    if (!sessionPresent) await this.subscribe();
  }

  async send(to: string, content: string): Promise<{ readonly messageId: string }> {
    // Numbered when handed to the client: the client sends in this order, resends included.
    const seq = (this.seqByPartner.get(to) ?? 0) + 1;
    this.seqByPartner.set(to, seq);
    const messageId = `${this.deviceId}.${++this.sent}`;
    await this.client.publish(userTopic(to), encodeLoadMessage({ messageId, from: this.userId, fromDevice: this.deviceId, seq, sentAt: Date.now(), content }));
    return { messageId };
  }

  dropConnection(): void {
    this.client.dropConnection();
  }

  goOffline(ms: number): Promise<void> {
    this.offline = true;
    this.client.disconnect();
    return reopenAfter(this, ms);
  }

  close(): void {
    this.client.close();
  }

  private async subscribe(): Promise<void> {
    await this.client.subscribe([this.topic], 1);
    this.subscribed = true;
  }

  private onReady(sessionPresent: boolean): void {
    this.hooks.connected(this, !this.everConnected);
    this.everConnected = true;
    // A broker that lost our session (a restart without persistence) lost the subscription too.
    // If subscribing again fails, drop the link: the next connection tries again.
    if (!sessionPresent && this.subscribed) this.subscribe().catch(() => this.client.dropConnection());
  }

  private onPublish(packet: PublishPacket): void {
    if (packet.topic !== this.topic) throw new MqttError(MqttErrorCode.badPayload, `PUBLISH on ${packet.topic}, subscribed to ${this.topic} only`);
    const m = decodeLoadMessage(packet.payload);
    const record: MessageRecord = {
      messageId: m.messageId,
      conversationId: `${m.fromDevice}>${this.userId}`,
      seq: m.seq,
      from: m.from,
      to: this.userId,
      kind: TEXT_KIND,
      content: m.content,
      sentAt: m.sentAt,
      clientMsgId: m.messageId,
    };
    this.hooks.message(this, record);
  }
}
