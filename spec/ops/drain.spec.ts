import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { readBody } from '../../codec/index.ts';
import { Bodies, type BodyOf } from '../../protocol/bodies.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import type { CommittedMessage, Stores } from '../../storage/ports.ts';
import { useInProcessServer } from '../support/fixtures.ts';
import { ManualClock, startTestServer, waitUntil } from '../support/server.ts';

/** Holds every message commit until the test opens the gate. */
function gated() {
  let open = false;
  const held: Array<() => void> = [];
  return {
    get held() {
      return held.length;
    },
    release() {
      open = true;
      for (const go of held.splice(0)) go();
    },
    decorate(stores: Stores): Stores {
      return {
        ...stores,
        messages: {
          async commit(input): Promise<CommittedMessage> {
            if (!open) await new Promise<void>((resolve) => held.push(resolve));
            return stores.messages.commit(input);
          },
        },
      };
    },
  };
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('graceful drain', function () {
  this.timeout(30_000);
  const local = useInProcessServer();

  it('sends goAway, answers the in-flight send, answers a new one 5003, then closes the connection', async () => {
    const gate = gated();
    const server = await local.start({ decorateStores: (s) => gate.decorate(s) });
    const alice = await local.device('alice');
    await local.device('bob');
    const events: string[] = [];
    let goAway: BodyOf<'goAway'> | undefined;
    alice.onOther = (frame) => {
      if (frame.opcode === Opcode.goAway) {
        goAway = readBody(frame, Bodies.goAway);
        events.push('goAway');
      }
    };
    alice.send('m1', 'bob', 'in flight', (ack, code) => events.push(ack ? `ack m1 seq ${ack.seq}` : `error m1 ${code}`));
    await waitUntil(() => gate.held === 1, 'the commit of m1 is held');

    let drained = false;
    const draining = server.gateway.drain({ graceMs: 20_000, spreadMs: 1_000, random: () => 0.5 }).then(() => (drained = true));
    await waitUntil(() => goAway !== undefined, 'goAway');
    assert.equal(goAway!.reconnectAfterMs, 500, 'the jitter is drawn from [0, spread)');
    assert.ok(await refused(server.port), 'no new connection is accepted');

    alice.send('m2', 'bob', 'too late', (ack, code) => events.push(ack ? 'ack m2' : `error m2 ${code}`));
    await waitUntil(() => events.includes(`error m2 ${ErrorCode.shuttingDown}`), 'm2 is answered 5003');
    assert.equal(alice.isClosed, false, 'the connection stays open while m1 is in flight');
    assert.equal(drained, false, 'the drain waits for the in-flight request');

    gate.release();
    await waitUntil(() => events.some((e) => e.startsWith('ack m1')), 'm1 is acknowledged');
    await waitUntil(() => alice.isClosed, 'the connection closes once m1 is answered');
    await waitUntil(() => drained, 'the drain ends when nothing is in flight');
    await draining;
    assert.deepEqual(events.slice(0, 2), ['goAway', `error m2 ${ErrorCode.shuttingDown}`]);
    const page = await server.stores.history.page('p:alice:bob', undefined, 10);
    assert.deepEqual(page.messages.map((m) => m.content), ['in flight'], 'the acknowledged message is stored, the refused one is not');
  });

  it('names the alternatives in goAway, and the SDK reconnects to the first one', async () => {
    const server = await local.start();
    const other = await startTestServer();
    try {
      const alice = server.client('alice', { reconnect: { baseMs: 10, maxMs: 50 } });
      const goAways: BodyOf<'goAway'>[] = [];
      alice.on('goAway', (g) => goAways.push(g));
      await alice.connect();
      const accepted = other.gateway.stats.accepted;
      await server.gateway.drain({ graceMs: 5_000, spreadMs: 1, alternatives: [{ host: '127.0.0.1', port: other.port }, { host: 'gw3.example', port: 7000 }] });
      await waitUntil(() => goAways.length === 1, 'goAway');
      assert.deepEqual(goAways[0]!.alternatives, [{ host: '127.0.0.1', port: other.port }, { host: 'gw3.example', port: 7000 }]);
      await waitUntil(() => other.gateway.stats.accepted > accepted, 'alice connects to the alternative');
      alice.close();
    } finally {
      await other.stop();
    }
  });

  it('ends at the grace period when a request never settles', async () => {
    const gate = gated();
    const clock = new ManualClock();
    const server = await local.start({ clock, decorateStores: (s) => gate.decorate(s) });
    const alice = await local.device('alice');
    await local.device('bob');
    alice.send('m1', 'bob', 'stuck', () => undefined);
    await waitUntil(() => gate.held === 1, 'the commit of m1 is held');
    let drained = false;
    void server.gateway.drain({ graceMs: 5_000, spreadMs: 1_000 }).then(() => (drained = true));
    server.gateway.tick(clock.advance(4_999));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(drained, false, 'still within the grace period');
    server.gateway.tick(clock.advance(1));
    await waitUntil(() => drained, 'the drain ends at the grace period');
    gate.release();
  });
});
