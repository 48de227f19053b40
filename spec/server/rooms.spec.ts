/**
 * Live rooms over real sockets (SPEC §19): membership, batches in order and encoded once, the
 * drop policy for a viewer that does not read, slow-viewer removal, reliable messages with their
 * seq and range pull, and the per-sender and per-device limits.
 */
import assert from 'node:assert/strict';
import { ErrorCode } from '../../protocol/errors.ts';
import { RoomLeftReason } from '../../protocol/bodies.ts';
import { Limits } from '../../protocol/timers.ts';
import { RoomPeer } from '../support/room-peer.ts';
import { ManualClock, startTestServer, waitUntil, type TestServer } from '../support/server.ts';

/** Incompressible text of `length` characters, so a viewer's buffers fill with few messages. */
function noise(seed: number, length: number): string {
  let x = seed * 2654435761 + 1;
  let out = '';
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out += String.fromCharCode(0x4e00 + (x >>> 16) % 0x5000);
  }
  return out;
}

describe('live rooms', () => {
  let server: TestServer | undefined;
  const peers: RoomPeer[] = [];
  const peer = async (userId: string) => {
    const p = await RoomPeer.register((server as TestServer).port, userId);
    peers.push(p);
    return p;
  };

  afterEach(async () => {
    for (const p of peers.splice(0)) p.close();
    await server?.stop();
    server = undefined;
  });

  it('delivers a room message to the joined devices only, and stops after a leave', async () => {
    server = await startTestServer();
    const [alice, bob, carol] = [await peer('alice'), await peer('bob'), await peer('carol')];
    assert.equal((await alice.join('live')).online, 1);
    assert.equal((await bob.join('live')).online, 2);
    const ack = await alice.roomSend('live', 'first');
    assert.ok(ack.ok);
    assert.equal(ack.body.seq, 0, 'an ordinary message has no seq');
    await waitUntil(() => bob.messages().length === 1 && alice.messages().length === 1, 'the message at both viewers');
    assert.equal(bob.messages()[0]?.content, 'first');
    assert.equal(bob.messages()[0]?.from, 'alice');
    assert.equal(bob.batches[0]?.body.online, 2);
    assert.ok((await bob.request('roomLeave', 'ok', { roomId: 'live' })).ok);
    await alice.roomSend('live', 'second');
    await waitUntil(() => alice.messages().length === 2, 'the second message at alice');
    // carol never joined, bob left: a ping round trip after the batch shows nothing more came.
    await bob.request('ping', 'pong', {});
    await carol.request('ping', 'pong', {});
    assert.equal(bob.messages().length, 1);
    assert.equal(carol.batches.length, 0);
    assert.equal((await carol.roomSend('live', 'x')).ok, false);
    assert.deepEqual(await carol.roomSend('live', 'x'), { ok: false, code: ErrorCode.notInRoom });
  });

  it('batches a burst in send order, each batch encoded once for every viewer', async () => {
    server = await startTestServer({ rooms: { sendsPerSecond: 1_000 }, gateway: { roomBatchMessages: 16 } });
    const sender = await peer('sender');
    const viewers = [await peer('v1'), await peer('v2'), await peer('v3')];
    for (const p of [sender, ...viewers]) await p.join('burst');
    const count = 100;
    const sent = Array.from({ length: count }, (_, i) => sender.send('roomSend', { roomId: 'burst', clientMsgId: `b${i}`, kind: 1, content: `m${i}`, reliable: false }));
    assert.equal(sent.length, count);
    await waitUntil(() => viewers.every((v) => v.messages().length === count), 'every message at every viewer');
    const expected = Array.from({ length: count }, (_, i) => `m${i}`);
    for (const v of viewers) assert.deepEqual(v.messages().map((m) => m.content), expected);
    const batches = viewers[0]!.batches.length;
    assert.ok(batches < count / 4, `${batches} batches for ${count} messages`);
    assert.ok(viewers[0]!.batches.every((b) => b.body.messages.length <= 16));
    // Four connections in the room, but one encode per batch.
    assert.equal(server.gateway.stats.rooms.encodes, sender.batches.length);
    assert.equal(server.gateway.stats.rooms.deliveries, 4 * count);
  });

  it('drops ordinary messages for a viewer that does not read, counts them in the next batch it gets, and still writes reliable ones', async () => {
    server = await startTestServer({
      rooms: { sendsPerSecond: 100_000 },
      gateway: {
        roomViewerQueueBytes: 64 * 1024, roomViewerMaxBytes: 256 << 20, roomSlowViewerMs: 600_000, roomBatchMessages: 4,
        maxWriteBufferBytes: 256 << 20, framesPerSecond: 100_000, bodyBytesPerSecond: 1 << 30,
      },
    });
    const sender = await peer('sender');
    const slow = await peer('slow');
    await sender.join('hall');
    await slow.join('hall');
    slow.pause();
    let sent = 0;
    let reliable = 0;
    const stats = server.gateway.stats.rooms;
    // Past what the kernel buffers for a socket that is not read (a few MiB on loopback), until
    // many were dropped (bounded: 6,000 × 3 KB).
    while (sent < 6_000 && (sent < 2_000 || stats.dropped < 300)) {
      const acks = [];
      for (let i = sent; i < sent + 100; i++) acks.push(sender.roomSend('hall', `${String(i).padStart(5, '0')} ${noise(i, 1000)}`, i % 50 === 49));
      for (const ack of await Promise.all(acks)) assert.ok(ack.ok);
      reliable += 2;
      sent += 100;
    }
    assert.ok(stats.dropped >= 300, `only ${stats.dropped} dropped`);
    slow.resume();
    // Markers until one reaches both viewers: its batch was written to them, so it carried every
    // drop before it in its header.
    for (let k = 0; k < 50; k++) {
      const marker = `${String(sent).padStart(5, '0')} end`;
      assert.ok((await sender.roomSend('hall', marker)).ok);
      sent++;
      const arrived = () => [sender, slow].every((v) => v.messages().some((m) => m.content === marker));
      if (await waitUntil(arrived, 'the marker', 1_000).then(() => true, () => false)) break;
    }
    for (const viewer of [sender, slow]) {
      const got = viewer.messages();
      assert.equal(got.length + viewer.droppedReported(), sent, 'every message was received or counted as dropped');
      // Ordinary messages are published as they arrive, reliable ones once stored: each kind in order.
      const order = got.filter((m) => m.seq === 0).map((m) => Number(m.content.slice(0, 5)));
      assert.deepEqual(order, [...order].sort((a, b) => a - b), 'ordinary messages in send order');
      assert.deepEqual(got.filter((m) => m.seq > 0).map((m) => m.seq), Array.from({ length: reliable }, (_, i) => i + 1), 'every reliable message, in seq order');
    }
    assert.ok(slow.droppedReported() > 0, 'the slow viewer was told what it missed');
    assert.equal(sender.droppedReported() + slow.droppedReported(), stats.dropped);
    assert.equal(slow.left.length, 0);
    assert.equal(slow.closed, false);
  });

  it('takes a viewer that stays slow out of the room, tells it, and keeps the connection', async () => {
    const clock = new ManualClock();
    server = await startTestServer({
      clock,
      rooms: { sendsPerSecond: 100_000 },
      gateway: { roomViewerQueueBytes: 64 * 1024, roomViewerMaxBytes: 256 << 20, roomBatchMessages: 4, maxWriteBufferBytes: 256 << 20, framesPerSecond: 100_000, bodyBytesPerSecond: 1 << 30 },
    });
    const sender = await peer('sender');
    const slow = await peer('slow');
    await sender.join('hall');
    await slow.join('hall');
    slow.pause();
    const stats = server.gateway.stats.rooms;
    for (let sent = 0; sent < 6_000 && (sent < 2_000 || stats.dropped < 300); sent += 100) {
      const acks = await Promise.all(Array.from({ length: 100 }, (_, i) => sender.roomSend('hall', noise(sent + i, 1000))));
      assert.ok(acks.every((ack) => ack.ok));
    }
    assert.ok(stats.dropped > 0);
    assert.equal(stats.removed, 0, 'not removed before the slow-viewer time');
    // A batch that reaches the reading viewer was written under the bound: it is not slow.
    assert.ok((await sender.roomSend('hall', 'sender caught up')).ok);
    await waitUntil(() => sender.messages().some((m) => m.content === 'sender caught up'), 'the sender to catch up');
    clock.advance(Limits.roomSlowViewerMs);
    assert.ok((await sender.roomSend('hall', 'after the slow time')).ok);
    await waitUntil(() => stats.removed === 1, 'the removal');
    assert.equal(server.gateway.rooms.viewers('hall'), 1, 'the reading viewer stays');
    slow.resume();
    await waitUntil(() => slow.left.length === 1, 'roomLeft at the viewer');
    assert.deepEqual(slow.left[0], { roomId: 'hall', reason: RoomLeftReason.slowViewer });
    // Still connected, no longer a member (the logic was told), and it may join again.
    assert.deepEqual(await slow.roomSend('hall', 'x'), { ok: false, code: ErrorCode.notInRoom });
    assert.equal((await slow.join('hall')).online, 2);
    assert.equal(slow.closed, false);
  });

  it('gives reliable messages a per-room seq, and a viewer that missed some pulls the range', async () => {
    server = await startTestServer();
    const gifter = await peer('gifter');
    const viewer = await peer('viewer');
    await gifter.join('gifts');
    assert.equal((await viewer.join('gifts')).reliableSeq, 0);
    for (let i = 1; i <= 3; i++) {
      const ack = await gifter.roomSend('gifts', `gift ${i}`, true);
      assert.ok(ack.ok);
      assert.equal(ack.body.seq, i);
    }
    await waitUntil(() => viewer.messages().length === 3, 'three gifts');
    assert.ok((await viewer.request('roomLeave', 'ok', { roomId: 'gifts' })).ok);
    for (let i = 4; i <= 5; i++) assert.ok((await gifter.roomSend('gifts', `gift ${i}`, true)).ok);
    await gifter.roomSend('gifts', 'not a gift');
    const have = Math.max(...viewer.messages().map((m) => m.seq));
    const joined = await viewer.join('gifts');
    assert.equal(joined.reliableSeq, 5);
    assert.ok(joined.reliableSeq > have, 'the join shows the gap');
    const page = await viewer.request('roomPull', 'roomPage', { roomId: 'gifts', afterSeq: have, limit: 100 });
    assert.ok(page.ok);
    assert.deepEqual(page.body.messages.map((m) => [m.seq, m.content]), [[4, 'gift 4'], [5, 'gift 5']]);
    assert.equal(page.body.hasMore, false);
    assert.equal(page.body.latestSeq, 5);
    assert.equal(page.body.oldestSeq, 1);
    const limited = await viewer.request('roomPull', 'roomPage', { roomId: 'gifts', afterSeq: 0, limit: 2 });
    assert.ok(limited.ok);
    assert.deepEqual(limited.body.messages.map((m) => m.seq), [1, 2]);
    assert.equal(limited.body.hasMore, true);
  });

  it('keeps reliable seqs and the room log across a restart', async () => {
    server = await startTestServer();
    const dataDir = server.dataDir;
    const gifter = await peer('gifter');
    await gifter.join('kept');
    for (let i = 1; i <= 2; i++) assert.ok((await gifter.roomSend('kept', `gift ${i}`, true)).ok);
    gifter.close();
    await server.gateway.close();
    await server.stores.close();
    server = await startTestServer({ dataDir });
    const again = await RoomPeer.register(server.port, 'again');
    peers.push(again);
    assert.equal((await again.join('kept')).reliableSeq, 2);
    const ack = await again.roomSend('kept', 'gift 3', true);
    assert.ok(ack.ok);
    assert.equal(ack.body.seq, 3);
    const page = await again.request('roomPull', 'roomPage', { roomId: 'kept', afterSeq: 0 });
    assert.ok(page.ok);
    assert.deepEqual(page.body.messages.map((m) => m.content), ['gift 1', 'gift 2', 'gift 3']);
  });

  it('answers a resent reliable message with the first ack and stores it once', async () => {
    server = await startTestServer();
    const gifter = await peer('gifter');
    await gifter.join('dedup');
    const body = { roomId: 'dedup', clientMsgId: 'same', kind: 7, content: 'rose', reliable: true };
    const first = await gifter.request('roomSend', 'roomSendAck', body);
    const second = await gifter.request('roomSend', 'roomSendAck', body);
    assert.deepEqual(second, first);
    const page = await gifter.request('roomPull', 'roomPage', { roomId: 'dedup', afterSeq: 0 });
    assert.ok(page.ok);
    assert.equal(page.body.messages.length, 1);
  });

  it('rate-limits room messages per sender with 4103, publishing none of the refused ones', async () => {
    server = await startTestServer({ clock: new ManualClock() });
    const sender = await peer('sender');
    const viewer = await peer('viewer');
    await sender.join('rate');
    await viewer.join('rate');
    const answers = [];
    for (let i = 0; i < Limits.roomSendsPerSecond + 5; i++) answers.push(await sender.roomSend('rate', `m${i}`));
    const refused = answers.filter((a) => !a.ok);
    assert.equal(refused.length, 5);
    assert.ok(refused.every((a) => !a.ok && a.code === ErrorCode.roomRateLimited));
    await waitUntil(() => viewer.messages().length === Limits.roomSendsPerSecond, 'the accepted messages');
    await viewer.request('ping', 'pong', {});
    assert.equal(viewer.messages().length, Limits.roomSendsPerSecond);
  });

  it('limits the rooms one device is in with 4101, and a leave makes room', async () => {
    server = await startTestServer();
    const device = await peer('device');
    for (let i = 0; i < Limits.roomsPerDevice; i++) await device.join(`r${i}`);
    assert.deepEqual(await device.request('roomJoin', 'roomJoined', { roomId: 'one-more' }), { ok: false, code: ErrorCode.roomLimit });
    assert.equal((await device.join('r0')).online, 1, 'joining a room it is in still succeeds');
    assert.ok((await device.request('roomLeave', 'ok', { roomId: 'r0' })).ok);
    assert.equal((await device.join('one-more')).online, 1);
  });

  it('forgets a closed connection in its rooms: the online count drops', async () => {
    server = await startTestServer();
    const a = await peer('a');
    const b = await peer('b');
    await a.join('count');
    assert.equal((await b.join('count')).online, 2);
    b.close();
    await waitUntil(() => server!.gateway.rooms.viewers('count') === 1, 'the gateway to drop the viewer');
    const c = await peer('c');
    assert.equal((await c.join('count')).online, 2);
  });
});
