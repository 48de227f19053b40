import assert from 'node:assert/strict';
import { messageEncodes } from '../../codec/index.ts';
import { EntryType, Platform } from '../../protocol/bodies.ts';
import { PushPayload, pushBodyEncodes } from '../../server/push-payload.ts';
import type { EmbeddedMessages } from '../../storage/embedded/messages.ts';
import { RawDevice } from '../support/raw-device.ts';
import { startTestServer, waitUntil, type TestServer } from '../support/server.ts';

/** Sends `count` messages at once (no waiting for ACKs); resolves with the ACKed seqs. */
function pipeline(device: RawDevice, to: string, tag: string, count: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const seqs: number[] = [];
    for (let i = 0; i < count; i++) {
      device.send(`${tag}${i}`, to, `${tag}:${i}`, (ack, code) => {
        if (!ack) return reject(new Error(`send ${tag}${i} failed with ${code}`));
        seqs.push(ack.seq);
        if (seqs.length === count) resolve(seqs);
      });
    }
  });
}

describe('the message path', () => {
  let server: TestServer;
  const devices: RawDevice[] = [];
  afterEach(async () => {
    for (const d of devices.splice(0)) d.close();
    await server?.stop();
  });

  it('pushes one conversation in seq order on every connection while both sides pipeline hundreds of sends', async () => {
    server = await startTestServer({ gateway: { framesPerSecond: 100_000 } });
    const alice = await RawDevice.register(server.port, 'alice');
    const bob = await RawDevice.register(server.port, 'bob');
    const bobDesktop = await RawDevice.open(server.port, 'bob', { register: false, deviceId: 'bob-desk', platform: Platform.desktop });
    devices.push(alice, bob, bobDesktop);
    const seen = new Map<RawDevice, number[]>([[alice, []], [bob, []], [bobDesktop, []]]);
    for (const [device, seqs] of seen) device.onPush = (entry) => entry.type === EntryType.message && seqs.push(entry.seq);
    const [fromAlice, fromBob] = await Promise.all([pipeline(alice, 'bob', 'a', 300), pipeline(bob, 'alice', 'b', 300)]);
    assert.equal(new Set([...fromAlice, ...fromBob]).size, 600, 'every message got its own seq');
    // alice sees bob's messages; bob's phone sees alice's; bob's desktop sees both (carbons of bob's own).
    await waitUntil(() => seen.get(alice)?.length === 300 && seen.get(bob)?.length === 300 && seen.get(bobDesktop)?.length === 600, 'every push');
    for (const [device, seqs] of seen) {
      const sorted = [...seqs].sort((x, y) => x - y);
      assert.deepEqual(seqs, sorted, `pushes in seq order on ${device === alice ? 'alice' : device === bob ? "bob's phone" : "bob's desktop"}`);
    }
  });

  it('encodes a push body once however many devices receive it', async () => {
    server = await startTestServer();
    const alice = await RawDevice.register(server.port, 'alice');
    const bobs = [await RawDevice.register(server.port, 'bob')];
    for (const platform of [Platform.ios, Platform.desktop, Platform.web]) bobs.push(await RawDevice.open(server.port, 'bob', { register: false, deviceId: `bob-${platform}`, platform }));
    devices.push(alice, ...bobs);
    let pushes = 0;
    for (const bob of bobs) bob.onPush = () => pushes++;
    const before = pushBodyEncodes();
    await pipeline(alice, 'bob', 'x', 10);
    await waitUntil(() => pushes === 40, 'a push on each of four devices for each message');
    // One encode per message for bob's four devices; alice's carbon has no other device to go to.
    assert.equal(pushBodyEncodes() - before, 10);
  });

  it('serializes a message once for its history row and every push that carries it', async () => {
    server = await startTestServer();
    const alice = await RawDevice.register(server.port, 'alice');
    const aliceDesktop = await RawDevice.open(server.port, 'alice', { register: false, deviceId: 'alice-desktop', platform: Platform.desktop });
    const bobs = [await RawDevice.register(server.port, 'bob')];
    for (const platform of [Platform.ios, Platform.web]) bobs.push(await RawDevice.open(server.port, 'bob', { register: false, deviceId: `bob-${platform}`, platform }));
    devices.push(alice, aliceDesktop, ...bobs);
    let pushes = 0;
    for (const device of [aliceDesktop, ...bobs]) device.onPush = () => pushes++;
    const before = messageEncodes();
    await pipeline(alice, 'bob', 'once', 20);
    await waitUntil(() => pushes === 80, "a push on bob's three devices and alice's desktop for each message");
    // Two push bodies per message (bob's entry and alice's carbon), one serialization of its content.
    assert.equal(messageEncodes() - before, 20);
  });

  it('issues one storage commit per message, and none for a resend', async () => {
    server = await startTestServer();
    const alice = await RawDevice.register(server.port, 'alice');
    const bob = await RawDevice.register(server.port, 'bob');
    devices.push(alice, bob);
    const messages = server.stores.messages as EmbeddedMessages;
    const before = messages.commits;
    await pipeline(alice, 'bob', 'c', 50);
    assert.equal(messages.commits - before, 50);
    const again = await pipeline(alice, 'bob', 'c', 50);
    assert.equal(messages.commits - before, 50, 'resends with the same client ids commit nothing');
    assert.equal(new Set(again).size, 50);
  });

  it('writes everything one turn produces for a connection in one flush', async () => {
    server = await startTestServer();
    const bob = await RawDevice.register(server.port, 'bob');
    devices.push(bob);
    let pushes = 0;
    bob.onPush = () => pushes++;
    const { stats } = server.gateway;
    const [flushes, writes] = [stats.flushes, stats.frames];
    for (let seq = 1; seq <= 20; seq++) server.logic.routing.push('bob', PushPayload.of({ version: seq, type: EntryType.readMark, conversationId: 'p:alice:bob', seq }));
    await waitUntil(() => pushes === 20, 'twenty pushes');
    assert.equal(stats.frames - writes, 40, 'a header and the shared body per push');
    assert.equal(stats.flushes - flushes, 1);
  });

  describe('back-pressure on one connection', () => {
    /** A server whose store holds every commit until released, counting those that reached it. */
    async function holdingServer(): Promise<{ reached: () => number; releaseAll: () => void }> {
      const held: (() => void)[] = [];
      let reached = 0;
      server = await startTestServer({
        gateway: { framesPerSecond: 100_000, bodyBytesPerSecond: 64 << 20 },
        decorateStores: (stores) => ({
          ...stores,
          messages: {
            commit: (input) => {
              reached++;
              return new Promise((resolve) => held.push(() => resolve(stores.messages.commit(input))));
            },
          },
        }),
      });
      return { reached: () => reached, releaseAll: () => held.splice(0).forEach((release) => release()) };
    }

    async function sendAll(device: RawDevice, contents: string[], store: { reached: () => number; releaseAll: () => void }, bound: number): Promise<void> {
      let acked = 0;
      contents.forEach((content, i) => device.send(`c${i}`, 'bob', content, (ack) => ack && acked++));
      await waitUntil(() => store.reached() >= bound, 'the first requests reach the store');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(store.reached(), bound, 'no more requests than the bound reach the logic, however the bytes were read');
      for (let i = 0; i < 200 && acked < contents.length; i++) {
        store.releaseAll();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(acked, contents.length, 'the rest follow as the first settle, and every one is acknowledged');
    }

    it('lets at most 256 requests of a connection reach the logic at once, even when they arrive in one read', async () => {
      const store = await holdingServer();
      const alice = await RawDevice.register(server.port, 'alice');
      devices.push(alice, await RawDevice.register(server.port, 'bob'));
      await sendAll(alice, Array.from({ length: 400 }, (_, i) => `m${i}`), store, 256);
    });

    it('lets at most 1 MiB of request bodies of a connection reach the logic at once', async () => {
      const store = await holdingServer();
      const alice = await RawDevice.register(server.port, 'alice');
      devices.push(alice, await RawDevice.register(server.port, 'bob'));
      // ~180 KB each (60,000 three-byte characters): the sixth passes 1 MiB.
      await sendAll(alice, Array.from({ length: 12 }, (_, i) => `${i}`.padEnd(60_000, '語')), store, 6);
    });
  });
});
