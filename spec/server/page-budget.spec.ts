/**
 * Pages are filled to a byte budget below the advertised frame size, over real sockets, with a
 * client transport that refuses frames above the advertised limits as the spec tells it to.
 */
import assert from 'node:assert/strict';
import { Transport } from '../../client/transport.ts';
import { encodeFrame, OversizedFrameError, prepareBody } from '../../codec/index.ts';
import { Bodies, Platform } from '../../protocol/bodies.ts';
import { DEFAULT_MAX_FRAME_SIZE, HEADER_SIZE } from '../../protocol/header.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import { replyOf } from '../support/group-calls.ts';
import { Prng } from '../support/prng.ts';
import { RawDevice } from '../support/raw-device.ts';
import { ManualClock, startTestServer, waitUntil, type TestServer } from '../support/server.ts';

async function open(port: number, userId: string, register: boolean): Promise<Transport> {
  const t = await Transport.open({ host: '127.0.0.1', port });
  await t.request(Opcode.hello, Bodies.hello, { version: 1, client: 'spec' }, Bodies.serverHello);
  const credentials = { userId, deviceId: `${userId}-d`, platform: Platform.desktop, password: 'pw' };
  if (register) await t.request(Opcode.register, Bodies.register, { ...credentials, password: 'pw' }, Bodies.session);
  else await t.request(Opcode.login, Bodies.login, credentials, Bodies.session);
  return t;
}

/** `units` CJK characters (3 UTF-8 bytes each) that LZ4 cannot shrink much. */
function heavy(prng: Prng, units: number): string {
  let s = '';
  for (let i = 0; i < units; i++) s += String.fromCharCode(0x4e00 + prng.below(0x5000));
  return s;
}

describe('pages within the advertised frame size', function () {
  this.timeout(60_000);
  let server: TestServer;
  const transports: Transport[] = [];
  afterEach(async () => {
    for (const t of transports.splice(0)) t.close();
    await server?.stop();
  });
  const connect = async (userId: string, register = true) => {
    const t = await open(server.port, userId, register);
    transports.push(t);
    return t;
  };
  const send = (from: Transport, to: string, content: string, i: number) =>
    from.request(Opcode.send, Bodies.send, { clientMsgId: `c${i}`, to, kind: 1, content }, Bodies.sendAck);

  it('splits sync and history of 8 messages of 64 Ki characters (1.5 MB) into pages below 1 MiB with hasMore, and delivers all 8', async () => {
    server = await startTestServer();
    const alice = await connect('alice');
    const bob = await connect('bob');
    const frames: number[] = [];
    bob.on('reply', (f) => frames.push(HEADER_SIZE + f.body.length));
    const prng = new Prng(11);
    for (let i = 0; i < 8; i++) await send(alice, 'bob', heavy(prng, 65_536), i);

    const synced: number[] = [];
    let since = 0;
    for (let page = 0; page < 12; page++) {
      const got = await bob.request(Opcode.sync, Bodies.sync, { sinceVersion: since }, Bodies.syncPage);
      synced.push(...got.entries.map((e) => e.version));
      if (!got.hasMore) break;
      assert.ok(got.entries.length > 0, 'a page with hasMore carries entries');
      since = got.lastVersion;
    }
    assert.deepEqual(synced, [1, 2, 3, 4, 5, 6, 7, 8]);

    const seqs: number[] = [];
    let beforeSeq: number | undefined;
    for (let page = 0; page < 12; page++) {
      const got = await bob.request(Opcode.history, Bodies.history, { conversationId: 'p:alice:bob', limit: 100, ...(beforeSeq ? { beforeSeq } : {}) }, Bodies.historyPage);
      seqs.push(...got.messages.map((m) => m.seq));
      if (!got.hasMore) break;
      beforeSeq = got.messages.at(-1)?.seq;
    }
    assert.deepEqual(seqs, [8, 7, 6, 5, 4, 3, 2, 1]);
    assert.ok(frames.length >= 8, 'several pages each way');
    assert.ok(Math.max(...frames) <= DEFAULT_MAX_FRAME_SIZE, `largest reply ${Math.max(...frames)} bytes`);
  });

  it('sends an entry larger than the page budget alone, and fills the rest of a page to the budget', async () => {
    server = await startTestServer({ pageBudgetBytes: 64 * 1024 });
    const alice = await connect('alice');
    const bob = await connect('bob');
    const prng = new Prng(12);
    await send(alice, 'bob', heavy(prng, 30_000), 1); // ~90 KB: above the budget, within the frame
    await send(alice, 'bob', heavy(prng, 30_000), 2);
    for (let i = 3; i <= 6; i++) await send(alice, 'bob', heavy(prng, 6_000), i); // ~18 KB each: three fit 64 KiB
    const sizes: number[] = [];
    let since = 0;
    for (let page = 0; page < 10; page++) {
      const got = await bob.request(Opcode.sync, Bodies.sync, { sinceVersion: since }, Bodies.syncPage);
      sizes.push(got.entries.length);
      if (!got.hasMore) break;
      since = got.lastVersion;
    }
    assert.deepEqual(sizes, [1, 1, 3, 1]);
  });

  it('lists every conversation, with last messages while they fit the budget and without them after', async () => {
    server = await startTestServer({ pageBudgetBytes: 64 * 1024 });
    const bob = await connect('bob');
    const prng = new Prng(13);
    for (const peer of ['p1', 'p2', 'p3']) await send(await connect(peer), 'bob', heavy(prng, 12_000), 1); // ~36 KB each
    const list = await bob.request(Opcode.conversations, Bodies.conversations, {}, Bodies.conversationList);
    assert.deepEqual(list.items.map((c) => [c.peer, c.lastMessage !== undefined]), [['p3', true], ['p2', false], ['p1', false]]);
    assert.equal(list.totalUnread, 3);
  });

  it('fits group rows and 1:1 rows of a conversation list into one budget', async () => {
    server = await startTestServer({ pageBudgetBytes: 64 * 1024, gateway: { framesPerSecond: 10_000 } });
    const prng = new Prng(14);
    const bob = await RawDevice.register(server.port, 'bob');
    const owner = await RawDevice.register(server.port, 'owner');
    try {
      for (let g = 0; g < 3; g++) {
        const group = replyOf(await owner.call('groupCreate', { name: `g${g}`, members: ['bob'] }), 'groupInfo');
        replyOf(await owner.call('groupSend', { groupId: group.groupId, clientMsgId: `g${g}`, kind: 1, content: heavy(prng, 12_000) }), 'sendAck');
      }
      const list = replyOf(await bob.call('conversations', {}), 'conversationList');
      assert.equal(list.items.length, 3);
      assert.deepEqual(list.items.map((c) => c.lastMessage !== undefined), [true, false, false]);
    } finally {
      bob.close();
      owner.close();
    }
  });

  it('lists as last message the newest one the user did not delete for themselves', async () => {
    server = await startTestServer();
    const alice = await connect('alice');
    const bob = await connect('bob');
    for (let i = 1; i <= 3; i++) await send(alice, 'bob', `m${i}`, i);
    for (const seq of [3, 2]) await bob.request(Opcode.deleteForMe, Bodies.deleteForMe, { conversationId: 'p:alice:bob', seq }, Bodies.ok);
    const [mine] = (await bob.request(Opcode.conversations, Bodies.conversations, {}, Bodies.conversationList)).items;
    assert.equal(mine?.lastMessage?.content, 'm1');
    const [theirs] = (await alice.request(Opcode.conversations, Bodies.conversations, {}, Bodies.conversationList)).items;
    assert.equal(theirs?.lastMessage?.content, 'm3', "the peer's list is unchanged");
  });

  it('caps sync.limit at 200', async () => {
    const clock = new ManualClock();
    server = await startTestServer({ clock });
    const alice = await connect('alice');
    const bob = await connect('bob');
    // In two rate-limit windows of 200 frames.
    await Promise.all(Array.from({ length: 150 }, (_, i) => send(alice, 'bob', `m${i}`, i)));
    clock.advance(1_000);
    await Promise.all(Array.from({ length: 60 }, (_, i) => send(alice, 'bob', `n${i}`, 150 + i)));
    const page = await bob.request(Opcode.sync, Bodies.sync, { sinceVersion: 0, limit: 1000 }, Bodies.syncPage);
    assert.equal(page.entries.length, 200);
    assert.equal(page.hasMore, true);
  });

  it('answers a sync without an epoch from a version ahead of the inbox with an empty page at the latest version, and records that as the cursor', async () => {
    server = await startTestServer();
    const alice = await connect('alice');
    const bob = await connect('bob');
    for (let i = 1; i <= 3; i++) await send(alice, 'bob', `m${i}`, i);
    const page = await bob.request(Opcode.sync, Bodies.sync, { sinceVersion: 50 }, Bodies.syncPage);
    assert.deepEqual(page, { entries: [], hasMore: false, lastVersion: 3, latestVersion: 3, epoch: (await server.stores.inbox.position('bob')).epoch });
    await server.stores.durable();
    assert.equal(await server.stores.inbox.cursor('bob', 'bob-d'), 3);
    await send(alice, 'bob', 'm4', 4);
    const next = await bob.request(Opcode.sync, Bodies.sync, { sinceVersion: page.lastVersion }, Bodies.syncPage);
    assert.deepEqual(next.entries.map((e) => e.message?.content), ['m4']);
  });
});

describe('a client ahead of the inbox', function () {
  this.timeout(30_000);
  let server: TestServer;
  afterEach(async () => server?.stop());

  it('moves its version back to the inbox on the empty page and receives the next message (SDK)', async () => {
    server = await startTestServer();
    const alice = server.client('alice');
    await alice.connect();
    const first = server.client('bob');
    await first.connect();
    await alice.send('bob', 'before');
    first.close();
    const bob = server.client('bob', { register: false, version: 50 });
    const got: string[] = [];
    bob.on('message', (m) => got.push(m.content));
    await bob.connect();
    await alice.send('bob', 'after');
    await waitUntil(() => got.includes('after'), 'the message sent after the client moved back');
  });
});

describe('frame encoder limits', () => {
  it('refuses to encode a frame above maxFrameSize or a body above maxRawBodySize', () => {
    const body = { clientMsgId: 'c', to: 'bob', kind: 1, content: 'x'.repeat(5000) };
    assert.throws(() => encodeFrame(Opcode.send, 1, Bodies.send, body, { maxFrameSize: 4096, compressThreshold: Infinity }), OversizedFrameError);
    assert.throws(() => encodeFrame(Opcode.send, 1, Bodies.send, body, { maxRawBodySize: 4096 }), OversizedFrameError);
    assert.ok(encodeFrame(Opcode.send, 1, Bodies.send, body, { maxFrameSize: 4096 }).length <= 4096, 'compressed, it fits');
    assert.throws(() => prepareBody(Bodies.send, body, { maxFrameSize: 1024, compressThreshold: Infinity }), OversizedFrameError);
  });
});
