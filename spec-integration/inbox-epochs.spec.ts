/**
 * A Redis that loses the inboxes (FLUSHALL, or restarted empty) must not make any device skip a
 * message: two nodes on a Redis of this suite's own and the shared Cassandra, devices online and
 * offline, messages ACKed before and after the loss, and every ACKed message must reach every
 * device of both users exactly once (by message id), in seq order per conversation.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type ClientOptions } from '../client/client.ts';
import { Platform, type BodyOf, type MessageRecord } from '../protocol/bodies.ts';
import { startNode, type RunningNode } from '../server/node.ts';
import { connectRedis } from '../storage/redis/connect.ts';
import { waitUntil } from '../spec/support/server.ts';
import { OwnRedis } from './support/redis-server.ts';
import { cassandraAt, dropKeyspace, requireCassandra, requireRedis, uniqueName } from './support/services.ts';

/** One installation: the state its app would persist, and every message shown on it, over all its connections. */
class Device {
  readonly shown: MessageRecord[] = [];
  readonly statuses: string[] = [];
  readonly errors: Error[] = [];
  private client: Client | undefined;
  private saved: Pick<ClientOptions, 'version' | 'epoch' | 'conversationSeqs'> = {};

  constructor(
    readonly userId: string,
    readonly deviceId: string,
    private readonly node: () => RunningNode,
    private readonly register: boolean,
  ) {}

  get live(): Client {
    if (!this.client) throw new Error(`${this.deviceId} is offline`);
    return this.client;
  }

  async online(): Promise<void> {
    const client = new Client({
      endpoint: { host: '127.0.0.1', port: this.node().port },
      userId: this.userId,
      deviceId: this.deviceId,
      platform: this.deviceId.endsWith('phone') ? Platform.android : Platform.desktop,
      password: `pw-${this.userId}`,
      register: this.register && this.shown.length === 0 && this.client === undefined,
      reconnect: { baseMs: 20, maxMs: 200 },
      gapWaitMs: 100,
      ...this.saved,
    });
    client.on('message', (m) => this.shown.push(m));
    client.on('status', (s) => this.statuses.push(s));
    client.on('syncError', (e) => this.errors.push(e));
    this.client = client;
    await client.connect();
  }

  /** Goes offline keeping what the app persists: the inbox position and the seq per conversation. */
  offline(): void {
    const client = this.live;
    this.saved = { version: client.inboxVersion, conversationSeqs: client.conversationSeqs, ...(client.inboxEpoch !== undefined ? { epoch: client.inboxEpoch } : {}) };
    client.close();
    this.client = undefined;
  }

  close(): void {
    this.client?.close();
  }

  /** Drops the connection as a bad network would; the client reconnects, logs in and syncs. */
  dropConnection(): void {
    this.live.connection?.destroy(undefined);
  }
}

interface Sent {
  readonly from: Device;
  readonly message: BodyOf<'sendAck'>;
  readonly to: string;
}

describe('inboxes on a Redis that loses its data', function () {
  this.timeout(120_000);
  const keyspace = uniqueName('tern_test_');
  let created = false;
  let redis: OwnRedis;
  const dataDir = mkdtempSync(join(tmpdir(), 'tern-epochs-it-'));
  let nodes: RunningNode[] = [];
  let devices: Device[] = [];

  before(async () => {
    // The shared Redis is never flushed: the check only makes a missing install fail clearly.
    await (await requireRedis()).quit();
    await (await requireCassandra(keyspace)).close();
    created = true;
    redis = await OwnRedis.start();
  });
  afterEach(async () => {
    for (const device of devices) device.close();
    devices = [];
    await Promise.all(nodes.map((node) => node.close()));
    nodes = [];
  });
  after(async () => {
    await redis?.stop();
    if (created) await dropKeyspace(keyspace);
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function startNodes(): Promise<[RunningNode, RunningNode]> {
    const keyPrefix = uniqueName('tern-test:');
    const tenant = uniqueName('t');
    const start = (nodeId: string) =>
      startNode({
        dataDir,
        host: '127.0.0.1',
        port: 0,
        scryptCost: 1024,
        production: {
          kind: 'production',
          redisUrl: `redis://127.0.0.1:${redis.port}`,
          cassandra: [`${cassandraAt.host}:${cassandraAt.port}`],
          keyspace,
          tenant,
          keyPrefix,
          nodeId,
        },
      });
    nodes = [await start('a'), await start('b')];
    return nodes as [RunningNode, RunningNode];
  }

  async function sendAll(from: Device, to: string, count: number, sent: Sent[]): Promise<void> {
    for (let i = 0; i < count; i++) sent.push({ from, to, message: await from.live.send(to, `${from.deviceId} #${sent.length}`) });
  }

  /** What a device must show: every message to its user, and its user's messages sent from another device. */
  function expected(device: Device, sent: readonly Sent[]): string[] {
    return sent.filter((s) => s.to === device.userId || (s.from.userId === device.userId && s.from !== device)).map((s) => s.message.messageId);
  }

  function check(device: Device, sent: readonly Sent[]): void {
    const ids = device.shown.map((m) => m.messageId);
    const want = expected(device, sent);
    const counts = new Map<string, number>();
    for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    assert.deepEqual([...counts].filter(([, n]) => n > 1), [], `${device.deviceId}: shown more than once`);
    assert.deepEqual(want.filter((id) => !counts.has(id)), [], `${device.deviceId}: ACKed but never shown`);
    assert.equal(ids.length, want.length, `${device.deviceId}: shown ${ids.length}, ACKed for it ${want.length}`);
    const byConversation = new Map<string, number[]>();
    for (const m of device.shown) byConversation.set(m.conversationId, [...(byConversation.get(m.conversationId) ?? []), m.seq]);
    for (const [conversationId, seqs] of byConversation) {
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), `${device.deviceId}: ${conversationId} out of seq order`);
    }
    assert.deepEqual(device.errors.map(String), [], `${device.deviceId}: sync errors`);
  }

  async function scenario(lose: () => Promise<void>): Promise<Device[]> {
    const [a, b] = await startNodes();
    const annPhone = new Device('ann', 'ann-phone', () => a, true);
    const annLaptop = new Device('ann', 'ann-laptop', () => b, false);
    const benPhone = new Device('ben', 'ben-phone', () => b, true);
    const benTablet = new Device('ben', 'ben-tablet', () => a, false);
    devices = [annPhone, annLaptop, benPhone, benTablet];
    await annPhone.online();
    await benPhone.online();
    await annLaptop.online();
    await benTablet.online();
    const sent: Sent[] = [];
    await sendAll(annPhone, 'ben', 10, sent);
    await sendAll(benPhone, 'ann', 5, sent);
    await waitUntil(() => devices.every((d) => d.shown.length === expected(d, sent).length), 'the first messages everywhere', 20_000);

    benTablet.offline();
    await sendAll(annPhone, 'ben', 5, sent);
    await sendAll(benPhone, 'ann', 2, sent);
    await lose();
    // Fewer entries after the loss than ben's devices had before it: their versions are ahead of the new counter.
    await sendAll(annPhone, 'ben', 6, sent);
    await sendAll(benPhone, 'ann', 3, sent);
    await benTablet.online();
    // The online devices may have heard nothing since the loss (the routing registry went with it): a reconnect syncs them.
    for (const device of [annPhone, annLaptop, benPhone]) device.dropConnection();
    await waitUntil(() => devices.every((d) => d.shown.length >= expected(d, sent).length && d.live.status === 'ready'), 'every ACKed message everywhere', 30_000);
    await sendAll(annPhone, 'ben', 3, sent);
    await waitUntil(() => devices.every((d) => d.shown.length >= expected(d, sent).length), 'messages after the recovery', 20_000);
    for (const device of devices) check(device, sent);
    return devices;
  }

  it('shows every ACKed message on every device exactly once, in order, after FLUSHALL', async () => {
    const devices = await scenario(async () => {
      const admin = await connectRedis({ port: redis.port });
      await admin.flushall();
      await admin.quit();
    });
    for (const device of devices) assert.ok(device.statuses.includes('recovering'), `${device.deviceId} recovered: ${device.statuses.join(' ')}`);
  });

  it('shows every ACKed message on every device exactly once, in order, after Redis restarted empty', async () => {
    const devices = await scenario(() => redis.restartEmpty());
    for (const device of devices) assert.ok(device.statuses.includes('recovering'), `${device.deviceId} recovered: ${device.statuses.join(' ')}`);
  });
});
