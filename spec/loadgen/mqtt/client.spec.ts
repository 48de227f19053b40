import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { MqttClient, type MqttClientOptions } from '../../../loadgen/mqtt/client.ts';
import { encodeConnack, encodePublish, encodePuback, encodeSuback, PINGRESP } from '../../../loadgen/mqtt/encode.ts';
import { MqttError, MqttErrorCode } from '../../../loadgen/mqtt/errors.ts';
import type { Packet, PublishPacket } from '../../../loadgen/mqtt/packets.ts';
import { PacketParser } from '../../../loadgen/mqtt/parser.ts';
import type { Scheduler } from '../../../loadgen/mqtt/scheduler.ts';

interface Received {
  readonly connection: number;
  readonly packet: Packet;
}

/** A scripted broker on loopback, built on the same parser and encoder, that records what it got. */
class FakeBroker extends EventEmitter<{ packet: [Received] }> {
  readonly received: Received[] = [];
  readonly sockets: Socket[] = [];
  connackCode = 0;
  puback = true;
  pingresp = true;
  private server: Server | undefined;

  async start(): Promise<number> {
    this.server = createServer((socket) => this.accept(socket));
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** Resolves with the first packet (already received or still to come) that matches, or fails at the deadline. */
  waitFor(match: (r: Received) => boolean, ms = 3000): Promise<Received> {
    const seen = this.received.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the broker did not receive the expected packet in time')), ms);
      const listener = (r: Received) => {
        if (!match(r)) return;
        clearTimeout(timer);
        this.off('packet', listener);
        resolve(r);
      };
      this.on('packet', listener);
    });
  }

  private accept(socket: Socket): void {
    const connection = this.sockets.push(socket) - 1;
    const parser = new PacketParser();
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) =>
      parser.push(chunk, (packet) => {
        const copy = packet.type === 'publish' ? { ...packet, payload: Buffer.from(packet.payload) } : packet;
        if (packet.type === 'connect') socket.write(encodeConnack(false, this.connackCode));
        if (packet.type === 'publish' && packet.qos === 1 && this.puback) socket.write(encodePuback(packet.packetId));
        if (packet.type === 'subscribe') socket.write(encodeSuback(packet.packetId, packet.subscriptions.map((s) => s.qos)));
        if (packet.type === 'pingreq' && this.pingresp) socket.write(PINGRESP);
        const r = { connection, packet: copy };
        this.received.push(r);
        this.emit('packet', r);
      }),
    );
  }
}

/** Timers that run only when a test advances the clock. */
class ManualScheduler implements Scheduler {
  private now = 0;
  private readonly tasks = new Set<{ at: number; task: () => void }>();

  after(ms: number, task: () => void): () => void {
    const entry = { at: this.now + ms, task };
    this.tasks.add(entry);
    return () => this.tasks.delete(entry);
  }

  advance(ms: number): void {
    this.now += ms;
    for (const entry of [...this.tasks].sort((a, b) => a.at - b.at)) {
      if (entry.at > this.now || !this.tasks.has(entry)) continue;
      this.tasks.delete(entry);
      entry.task();
    }
  }
}

const isPublish = (r: Received): r is Received & { packet: PublishPacket } => r.packet.type === 'publish';
const rejectsWith = (promise: Promise<unknown>, code: string) => assert.rejects(promise, (e: unknown) => e instanceof MqttError && e.code === code);

describe('mqtt client against a scripted broker', () => {
  let broker: FakeBroker;
  let port: number;
  const clients: MqttClient[] = [];
  const client = (options: Partial<MqttClientOptions> = {}) => {
    const c = new MqttClient({ host: '127.0.0.1', port, clientId: 'dev-1', reconnect: false, ...options });
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    broker = new FakeBroker();
    port = await broker.start();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await broker.stop();
  });

  it('connects with clean session off and the client id, and resolves with the session-present flag', async () => {
    const c = client({ keepAliveSeconds: 30 });
    assert.equal(await c.connect(), false);
    assert.equal(c.status, 'ready');
    const { packet } = await broker.waitFor((r) => r.packet.type === 'connect');
    assert.deepEqual(packet, { type: 'connect', clientId: 'dev-1', cleanSession: false, keepAliveSeconds: 30 });
  });

  it("resolves a publish on the broker's PUBACK, and acknowledges an incoming QoS 1 PUBLISH once the app has it", async () => {
    const c = client();
    await c.connect();
    await c.publish('u/b', Buffer.from('hi'));
    const sent = await broker.waitFor(isPublish);
    assert.equal(sent.packet.type === 'publish' && sent.packet.payload.toString(), 'hi');

    const delivered = once(c, 'message');
    broker.sockets[0]?.write(encodePublish({ topic: 'u/dev', qos: 1, packetId: 7, payload: Buffer.from('yo') }));
    const [message] = (await delivered) as [PublishPacket];
    assert.equal(message.payload.toString(), 'yo');
    await broker.waitFor((r) => r.packet.type === 'puback' && r.packet.packetId === 7);
  });

  it('resends an unacknowledged PUBLISH with DUP and its packet id after a lost connection, ahead of newer ones', async () => {
    const c = client({ reconnect: { baseMs: 1, maxMs: 1 } });
    await c.connect();
    broker.puback = false;
    const first = c.publish('u/b', Buffer.from('one'));
    const original = await broker.waitFor(isPublish);
    const reconnecting = once(c, 'status');
    broker.sockets[0]?.destroy();
    await reconnecting;
    assert.equal(c.status, 'reconnecting');
    broker.puback = true;
    const second = c.publish('u/b', Buffer.from('two'));
    await Promise.all([first, second]);

    const resent = broker.received.filter((r) => r.connection === 1 && r.packet.type === 'publish').map((r) => r.packet as PublishPacket);
    assert.deepEqual(
      resent.map((p) => [p.payload.toString(), p.dup, p.packetId]),
      [
        ['one', true, (original.packet as PublishPacket).packetId],
        ['two', false, resent[1]?.packetId],
      ],
    );
  });

  it('drops a connection whose PINGREQ goes unanswered for a keepalive period', async () => {
    const scheduler = new ManualScheduler();
    const c = client({ keepAliveSeconds: 5, scheduler });
    await c.connect();
    scheduler.advance(5000);
    await broker.waitFor((r) => r.packet.type === 'pingreq');
    // The PUBACK travels behind the PINGRESP, so once it is in, the PINGRESP has been read.
    await c.publish('u/b', Buffer.from('x'));

    broker.pingresp = false;
    scheduler.advance(5000);
    assert.equal(c.status, 'ready', 'the first PINGREQ was answered: still up');
    await broker.waitFor(() => broker.received.filter((r) => r.packet.type === 'pingreq').length === 2);
    const gone = once(c, 'disconnected');
    scheduler.advance(5000);
    const [error] = (await gone) as [Error | undefined];
    assert.ok(error instanceof MqttError && error.code === MqttErrorCode.pingTimeout);
    assert.equal(c.status, 'idle');
  });

  it('refuses a publish beyond the in-flight limit instead of buffering it', async () => {
    const c = client({ maxInflight: 2 });
    await c.connect();
    broker.puback = false;
    const pending = [c.publish('u/b', Buffer.from('1')), c.publish('u/b', Buffer.from('2'))];
    await rejectsWith(c.publish('u/b', Buffer.from('3')), MqttErrorCode.inflightFull);
    assert.equal(c.inflight, 2);
    c.close();
    for (const p of pending) await rejectsWith(p, MqttErrorCode.closed);
  });

  it('keeps unacknowledged publishes across disconnect() and sends them on the next connect()', async () => {
    const c = client();
    await c.connect();
    broker.puback = false;
    const kept = c.publish('u/b', Buffer.from('kept'));
    await broker.waitFor(isPublish);
    c.disconnect();
    await broker.waitFor((r) => r.packet.type === 'disconnect');
    assert.equal(c.status, 'offline');
    broker.puback = true;
    await c.connect();
    await kept;
    const again = await broker.waitFor((r) => r.connection === 1 && isPublish(r));
    assert.equal((again.packet as PublishPacket).dup, true);
  });

  it('rejects connect() with the CONNACK return code when the broker refuses', async () => {
    broker.connackCode = 5;
    const c = client();
    await rejectsWith(c.connect(), MqttErrorCode.refused);
    assert.equal(c.status, 'idle');
  });
});
