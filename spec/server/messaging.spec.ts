import assert from 'node:assert/strict';
import type { MessageRecord } from '../../protocol/bodies.ts';
import { Bodies } from '../../protocol/bodies.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import { Transport } from '../../client/transport.ts';
import { startTestServer, waitUntil, ManualClock, type TestServer } from '../support/server.ts';

function collect(client: { on(event: 'message', fn: (m: MessageRecord) => void): unknown }): MessageRecord[] {
  const received: MessageRecord[] = [];
  client.on('message', (m) => received.push(m));
  return received;
}

describe('1:1 messaging over real sockets', () => {
  let server: TestServer;
  afterEach(async () => server?.stop());

  it('delivers messages both ways with increasing conversation seqs', async () => {
    server = await startTestServer();
    const alice = server.client('alice');
    const bob = server.client('bob');
    await Promise.all([alice.connect(), bob.connect()]);
    const atBob = collect(bob);
    const atAlice = collect(alice);
    const a1 = await alice.send('bob', 'hi bob');
    const b1 = await bob.send('alice', 'hi alice');
    const a2 = await alice.send('bob', 'how are you?');
    assert.deepEqual([a1.seq, b1.seq, a2.seq], [1, 2, 3]);
    assert.equal(a1.conversationId, 'p:alice:bob');
    await waitUntil(() => atBob.length === 2 && atAlice.length === 1, 'deliveries');
    assert.deepEqual(atBob.map((m) => [m.from, m.content, m.seq]), [['alice', 'hi bob', 1], ['alice', 'how are you?', 3]]);
    assert.deepEqual(atAlice.map((m) => [m.from, m.content, m.seq]), [['bob', 'hi alice', 2]]);
  });

  it('answers a resend with the same client id with the same ACK and stores one copy', async () => {
    server = await startTestServer();
    await Promise.all([server.client('alice').connect(), server.client('bob').connect()]);
    const raw = await Transport.open({ host: '127.0.0.1', port: server.port });
    await raw.request(Opcode.hello, Bodies.hello, { version: 1, client: 'raw' }, Bodies.serverHello);
    await raw.request(Opcode.login, Bodies.login, { userId: 'alice', deviceId: 'raw-1', platform: 3, password: 'pw-alice' }, Bodies.session);
    const body = { clientMsgId: 'fixed-id-1', to: 'bob', kind: 1, content: 'once' };
    const first = await raw.request(Opcode.send, Bodies.send, body, Bodies.sendAck);
    const again = await raw.request(Opcode.send, Bodies.send, body, Bodies.sendAck);
    assert.deepEqual(again, first);
    const page = await server.stores.history.page(first.conversationId, undefined, 10);
    assert.equal(page.messages.length, 1);
    assert.equal(page.messages[0]!.content, 'once');
    raw.close();
  });

  it('retransmits a push whose ACK was withheld with the same SID, and the app sees it once', async () => {
    const clock = new ManualClock();
    server = await startTestServer({ clock });
    const alice = server.client('alice');
    let withheld = 0;
    const bob = server.client('bob', { ackFilter: (sid) => !(sid === 1 && withheld++ === 0) });
    await Promise.all([alice.connect(), bob.connect()]);
    const atBob = collect(bob);
    const pushSids: number[] = [];
    bob.connection!.on('frame', (frame) => {
      if (frame.opcode === Opcode.push) pushSids.push(frame.requestId);
    });
    await alice.send('bob', 'are you there?');
    await waitUntil(() => pushSids.length === 1, 'the first push');
    server.gateway.tick(clock.advance(server.gateway.config.pushAckTimeoutMs + 300));
    await waitUntil(() => pushSids.length === 2, 'the retransmission');
    assert.deepEqual(pushSids, [1, 1]);
    await alice.send('bob', 'second');
    await waitUntil(() => atBob.length === 2, 'both messages');
    assert.deepEqual(atBob.map((m) => m.content), ['are you there?', 'second']);
    assert.deepEqual(pushSids, [1, 1, 2]);
  });

  it('loses nothing when the receiver is cut off mid-window and reconnects', async () => {
    server = await startTestServer();
    const alice = server.client('alice');
    const bob = server.client('bob', { ackFilter: () => false });
    await Promise.all([alice.connect(), bob.connect()]);
    const atBob = collect(bob);
    const sent = [];
    for (let i = 0; i < 10; i++) sent.push(await alice.send('bob', `m${i}`));
    await waitUntil(() => atBob.length >= 3, 'some pushes');
    bob.connection!.destroy(undefined);
    for (let i = 10; i < 25; i++) sent.push(await alice.send('bob', `m${i}`));
    await waitUntil(() => atBob.length === 25 && bob.status === 'ready', 'all 25 after reconnect', 10_000);
    assert.deepEqual(atBob.map((m) => m.content), sent.map((_, i) => `m${i}`));
    assert.deepEqual(atBob.map((m) => m.seq), sent.map((a) => a.seq));
  });

  it('kicks the older login of the same platform and keeps other platforms online', async () => {
    server = await startTestServer();
    const phone = server.client('carol');
    await phone.connect();
    const desktop = server.client('carol', { deviceId: 'carol-desktop', platform: 3, register: false });
    await desktop.connect();
    assert.equal(phone.status, 'ready');
    const kicked: number[] = [];
    phone.on('kicked', (k) => kicked.push(k.reason));
    const tablet = server.client('carol', { deviceId: 'carol-tablet', register: false });
    await tablet.connect();
    await waitUntil(() => phone.status === 'closed', 'the phone to be kicked');
    assert.deepEqual(kicked, [2]);
    assert.equal(desktop.status, 'ready');
    assert.equal(tablet.status, 'ready');
  });

  it('sends a message to the sender’s other devices as a carbon', async () => {
    server = await startTestServer();
    const phone = server.client('dave');
    await phone.connect();
    const desktop = server.client('dave', { deviceId: 'dave-desktop', platform: 3, register: false });
    await Promise.all([desktop.connect(), server.client('erin').connect()]);
    const atDesktop = collect(desktop);
    await phone.send('erin', 'from my phone');
    await waitUntil(() => atDesktop.length === 1, 'the carbon');
    assert.equal(atDesktop[0]!.from, 'dave');
    assert.equal(atDesktop[0]!.to, 'erin');
  });

  it('syncs a device that was offline, in pages, from its last version', async () => {
    server = await startTestServer();
    const alice = server.client('alice');
    await alice.connect();
    const bob = server.client('bob');
    await bob.connect();
    bob.close();
    for (let i = 0; i < 30; i++) await alice.send('bob', `offline ${i}`);
    const raw = await Transport.open({ host: '127.0.0.1', port: server.port });
    await raw.request(Opcode.hello, Bodies.hello, { version: 1, client: 'raw' }, Bodies.serverHello);
    await raw.request(Opcode.login, Bodies.login, { userId: 'bob', deviceId: 'bob-phone', platform: 1, password: 'pw-bob' }, Bodies.session);
    const pages = [];
    let since = 0;
    for (let i = 0; i < 10; i++) {
      const page = await raw.request(Opcode.sync, Bodies.sync, { sinceVersion: since, limit: 12 }, Bodies.syncPage);
      pages.push(page.entries.length);
      if (page.entries.length === 0) break;
      since = page.lastVersion;
    }
    assert.deepEqual(pages, [12, 12, 6, 0]);
    await server.stores.durable();
    assert.equal(await server.stores.inbox.cursor('bob', 'bob-phone'), 30);
    raw.close();
  });

  it('pages history backwards by seq', async () => {
    server = await startTestServer();
    const alice = server.client('alice');
    await Promise.all([alice.connect(), server.client('bob').connect()]);
    for (let i = 1; i <= 25; i++) await alice.send('bob', `h${i}`);
    const first = await alice.history('p:alice:bob');
    assert.equal(first.messages.length, 20);
    assert.equal(first.messages[0]!.seq, 25);
    assert.equal(first.hasMore, true);
    const second = await alice.history('p:alice:bob', first.messages.at(-1)!.seq);
    assert.deepEqual(second.messages.map((m) => m.seq), [5, 4, 3, 2, 1]);
    assert.equal(second.hasMore, false);
  });
});
