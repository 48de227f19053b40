import assert from 'node:assert/strict';
import { Transport, ServerError } from '../../client/transport.ts';
import { isCompressed, type Frame } from '../../codec/index.ts';
import { Bodies, EntryType, type EntryRecord, type MessageRecord } from '../../protocol/bodies.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import { startTestServer, waitUntil, ManualClock, type TestServer } from '../support/server.ts';

async function rawLogin(port: number, userId: string, deviceId: string): Promise<Transport> {
  const t = await Transport.open({ host: '127.0.0.1', port });
  await t.request(Opcode.hello, Bodies.hello, { version: 1, client: 'spec' }, Bodies.serverHello);
  await t.request(Opcode.login, Bodies.login, { userId, deviceId, platform: 3, password: `pw-${userId}` }, Bodies.session);
  return t;
}

describe('offline sync, conversations and read state', function () {
  this.timeout(60_000);
  let server: TestServer;
  afterEach(async () => server?.stop());

  it('delivers 1,000 messages from several peers to a device that was offline: once, in order, in compressed pages of at most 200', async () => {
    server = await startTestServer();
    const peers = ['p1', 'p2', 'p3', 'p4', 'p5'].map((p) => server.client(p));
    const bob = server.client('bob');
    await Promise.all([...peers, bob].map((c) => c.connect()));
    bob.close();
    await Promise.all(peers.map(async (peer) => {
      for (let i = 0; i < 200; i++) await peer.send('bob', `${peer.session!.userId} #${i}`);
    }));

    const raw = await rawLogin(server.port, 'bob', 'bob-tablet');
    const replies: Frame[] = [];
    raw.on('reply', (frame) => replies.push(frame));
    let since = 0;
    const pages: number[] = [];
    for (let i = 0; i < 20; i++) {
      const page = await raw.request(Opcode.sync, Bodies.sync, { sinceVersion: since }, Bodies.syncPage);
      pages.push(page.entries.length);
      if (page.entries.length === 0) break;
      since = page.lastVersion;
    }
    assert.deepEqual(pages, [200, 200, 200, 200, 200, 0]);
    assert.ok(replies.slice(0, 5).every(isCompressed), 'full pages travel LZ4-compressed');
    await server.stores.durable();
    assert.equal(await server.stores.inbox.cursor('bob', 'bob-tablet'), 1000, 'the empty last page acknowledged the one before');
    raw.close();

    const phone = server.client('bob', { register: false, deviceId: 'bob-phone2' });
    const got: MessageRecord[] = [];
    phone.on('message', (m) => got.push(m));
    await phone.connect();
    await waitUntil(() => got.length === 1000, '1,000 messages');
    assert.equal(new Set(got.map((m) => m.messageId)).size, 1000, 'no duplicates');
    for (const peer of ['p1', 'p2', 'p3', 'p4', 'p5']) {
      const seqs = got.filter((m) => m.from === peer).map((m) => m.seq);
      assert.deepEqual(seqs, Array.from({ length: 200 }, (_, i) => i + 1), `order from ${peer}`);
    }
  });

  it('answers a version older than the inbox keeps with 3005', async () => {
    server = await startTestServer({ inboxMaxEntries: 5 });
    const alice = server.client('alice');
    await Promise.all([alice.connect(), server.client('bob').connect()]);
    for (let i = 0; i < 8; i++) await alice.send('bob', `m${i}`);
    const raw = await rawLogin(server.port, 'bob', 'bob-old');
    await assert.rejects(raw.request(Opcode.sync, Bodies.sync, { sinceVersion: 0 }, Bodies.syncPage), (e) => e instanceof ServerError && e.code === ErrorCode.versionTooOld);
    const recent = await raw.request(Opcode.sync, Bodies.sync, { sinceVersion: 3 }, Bodies.syncPage);
    assert.deepEqual(recent.entries.map((e) => e.version), [4, 5, 6, 7, 8]);
    raw.close();
  });

  it('keeps two devices of a user on the same conversation list, unread counts and read marks, and sends the peer a receipt', async () => {
    server = await startTestServer();
    const alice = server.client('alice');
    const carol = server.client('carol');
    const phone = server.client('bob');
    await Promise.all([alice.connect(), carol.connect(), phone.connect()]);
    const desktop = server.client('bob', { register: false, deviceId: 'bob-desktop', platform: 3 });
    await desktop.connect();
    const desktopEntries: EntryRecord[] = [];
    desktop.on('entry', (e) => desktopEntries.push(e));
    const aliceEntries: EntryRecord[] = [];
    alice.on('entry', (e) => aliceEntries.push(e));

    for (let i = 0; i < 3; i++) await alice.send('bob', `a${i}`);
    await phone.send('alice', 'reply');
    for (let i = 0; i < 2; i++) await carol.send('bob', `c${i}`);
    const before = await phone.conversations();
    assert.equal(before.totalUnread, 5);
    assert.deepEqual(before.items.map((c) => [c.peer, c.unread]), [['carol', 2], ['alice', 3]]);

    await phone.markRead('p:alice:bob', 4);
    await waitUntil(() => desktopEntries.some((e) => e.type === EntryType.readMark), 'the read mark on the other device');
    await waitUntil(() => aliceEntries.some((e) => e.type === EntryType.readMark && e.actor === 'bob' && e.seq === 4), 'the read receipt at the peer');
    const [onPhone, onDesktop] = await Promise.all([phone.conversations(), desktop.conversations()]);
    assert.deepEqual(onPhone, onDesktop);
    assert.equal(onPhone.totalUnread, 2);
    assert.deepEqual(onPhone.items.map((c) => [c.peer, c.unread, c.readSeq]), [['carol', 2, 0], ['alice', 0, 4]]);
    await assert.rejects(phone.markRead('p:alice:bob', 99), (e) => e instanceof ServerError && e.code === ErrorCode.notFound);
    await assert.rejects(phone.markRead('p:alice:carol', 1), (e) => e instanceof ServerError && e.code === ErrorCode.forbidden);
  });

  it('recalls a message for everyone within the window, and only the sender may', async () => {
    const clock = new ManualClock();
    server = await startTestServer({ clock });
    const alice = server.client('alice');
    const bob = server.client('bob');
    await Promise.all([alice.connect(), bob.connect()]);
    const bobEntries: EntryRecord[] = [];
    bob.on('entry', (e) => bobEntries.push(e));
    const first = await alice.send('bob', 'oops');
    const second = await alice.send('bob', 'kept');
    await assert.rejects(bob.recall(first.conversationId, first.seq), (e) => e instanceof ServerError && e.code === ErrorCode.forbidden);
    await alice.recall(first.conversationId, first.seq);
    await waitUntil(() => bobEntries.some((e) => e.type === EntryType.recall), 'the recall signal');
    const page = await bob.history(first.conversationId);
    assert.deepEqual(page.messages.map((m) => [m.seq, m.content, m.recalled ?? false]), [[2, 'kept', false], [1, '', true]]);
    assert.equal((await bob.conversations()).totalUnread, 1, 'the recalled unread message no longer counts');
    clock.advance(3 * 60 * 1000);
    await assert.rejects(alice.recall(second.conversationId, second.seq), (e) => e instanceof ServerError && e.code === ErrorCode.recallExpired);
  });

  it('deletes a message for one side only', async () => {
    server = await startTestServer();
    const alice = server.client('alice');
    const bob = server.client('bob');
    await Promise.all([alice.connect(), bob.connect()]);
    for (let i = 1; i <= 3; i++) await alice.send('bob', `d${i}`);
    await bob.deleteForMe('p:alice:bob', 2);
    assert.deepEqual((await bob.history('p:alice:bob')).messages.map((m) => m.seq), [3, 1]);
    assert.deepEqual((await alice.history('p:alice:bob')).messages.map((m) => m.seq), [3, 2, 1]);
  });
});
