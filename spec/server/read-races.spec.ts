/**
 * Unread counts, read marks and recalls under pipelined requests, over real sockets: each
 * change of a user's conversation row is an atomic read-modify-write, and a recall is a
 * check-and-set.
 */
import assert from 'node:assert/strict';
import { ServerError, Transport } from '../../client/transport.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { Bodies, EntryType, Platform } from '../../protocol/bodies.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnServer, stopProcess } from '../support/process.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { Transports } from '../support/transports.ts';

const AB = 'p:alice:bob';

describe('read state under pipelined requests', function () {
  this.timeout(30_000);
  let server: TestServer;
  const transports = new Transports();
  afterEach(async () => {
    transports.closeAll();
    await server?.stop();
  });
  const user = async (userId: string, port = server.port) => {
    const t = await transports.greeted(port);
    await t.request(Opcode.register, Bodies.register, { userId, password: 'pw', deviceId: `${userId}-d`, platform: Platform.desktop }, Bodies.session);
    return t;
  };
  const sendMany = async (from: Transport, to: string, count: number) => {
    for (let i = 1; i <= count; i++) await from.request(Opcode.send, Bodies.send, { clientMsgId: `m${i}`, to, kind: 1, content: `m${i}` }, Bodies.sendAck);
  };
  const unread = async (t: Transport) => {
    const list = await t.request(Opcode.conversations, Bodies.conversations, {}, Bodies.conversationList);
    return [list.items[0]?.unread, list.totalUnread];
  };
  const markRead = (t: Transport, seq: number) => t.request(Opcode.markRead, Bodies.markRead, { conversationId: AB, seq }, Bodies.ok);
  const recall = (t: Transport, seq: number) => t.request(Opcode.recall, Bodies.recall, { conversationId: AB, seq }, Bodies.ok);

  it('counts two pipelined read marks each from the mark the other left', async () => {
    server = await startTestServer();
    const alice = await user('alice');
    const bob = await user('bob');
    await sendMany(alice, 'bob', 20);
    await Promise.all([markRead(bob, 5), markRead(bob, 10)]);
    assert.deepEqual(await unread(bob), [10, 10]);
    await Promise.all([markRead(bob, 15), markRead(bob, 12), markRead(bob, 20)]);
    assert.deepEqual(await unread(bob), [0, 0]);
  });

  it('does not count a recalled message again when the receiver reads past it', async () => {
    server = await startTestServer();
    const alice = await user('alice');
    const bob = await user('bob');
    await sendMany(alice, 'bob', 3);
    await recall(alice, 1);
    assert.deepEqual(await unread(bob), [2, 2]);
    await markRead(bob, 1);
    assert.deepEqual(await unread(bob), [2, 2], 'messages 2 and 3 are still unread');
    await Promise.all([recall(alice, 3), markRead(bob, 3)]);
    assert.deepEqual(await unread(bob), [0, 0]);
  });

  it('enters one recall for two pipelined recalls of one message', async () => {
    server = await startTestServer();
    const alice = await user('alice');
    const bob = await user('bob');
    await sendMany(alice, 'bob', 2);
    await Promise.all([recall(alice, 2), recall(alice, 2), recall(alice, 2)]);
    const page = await bob.request(Opcode.sync, Bodies.sync, { sinceVersion: 0 }, Bodies.syncPage);
    assert.equal(page.entries.filter((e) => e.type === EntryType.recall).length, 1);
    assert.deepEqual(await unread(bob), [1, 1]);
  });

  it('gives the recall back when its tombstone cannot be written, so that the retry recalls', async () => {
    let failNext = true;
    server = await startTestServer({
      decorateStores: (stores) => {
        const history = Object.create(stores.history) as typeof stores.history;
        history.put = async (message) => {
          if (failNext) {
            failNext = false;
            throw new Error('injected: the history write failed');
          }
          return stores.history.put(message);
        };
        return { ...stores, history };
      },
    });
    const alice = await user('alice');
    const bob = await user('bob');
    await sendMany(alice, 'bob', 1);
    await assert.rejects(recall(alice, 1), (e) => e instanceof ServerError && e.code === ErrorCode.internal);
    await recall(alice, 1);
    const page = await bob.request(Opcode.sync, Bodies.sync, { sinceVersion: 0 }, Bodies.syncPage);
    assert.equal(page.entries.filter((e) => e.type === EntryType.recall).length, 1);
    assert.deepEqual(await unread(bob), [0, 0]);
  });

  it('counts pipelined read marks and recalls from two gateway workers the same way (--workers 2)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tern-races-'));
    const port = await freePort();
    const spawned = await spawnServer(['--workers', '2', '--data-dir', dataDir, '--scrypt-cost', '1024'], port);
    try {
      const alice = await user('alice', port);
      const bob = await user('bob', port);
      const bobAgain = await transports.greeted(port);
      await bobAgain.request(Opcode.login, Bodies.login, { userId: 'bob', password: 'pw', deviceId: 'bob-phone', platform: Platform.ios }, Bodies.session);
      await sendMany(alice, 'bob', 30);
      // Two of bob's devices, likely on different workers, mark read at once; alice recalls twice.
      await Promise.all([markRead(bob, 5), markRead(bobAgain, 10), markRead(bob, 12), markRead(bobAgain, 8), recall(alice, 20), recall(alice, 20)]);
      assert.deepEqual(await unread(bob), [17, 17], '30 − 12 read − 1 recalled');
      const page = await bob.request(Opcode.sync, Bodies.sync, { sinceVersion: 0 }, Bodies.syncPage);
      assert.equal(page.entries.filter((e) => e.type === EntryType.recall).length, 1);
    } finally {
      await stopProcess(spawned.child);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
