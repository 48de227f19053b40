import assert from 'node:assert/strict';
import { readBody } from '../../codec/index.ts';
import { Bodies } from '../../protocol/bodies.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import { openEmbeddedStore } from '../../storage/embedded/embedded-store.ts';
import { useSpawnedServer } from '../support/fixtures.ts';
import { waitUntil } from '../support/server.ts';

/** Bounds of the client's traffic: 8 concurrent sends, at most 2,000 in all (the frame-rate limit is 200/s). */
const STREAMS = 8;
const MAX_SENDS = 2_000;

describe('SIGTERM drains the server process', function () {
  this.timeout(60_000);
  const spawned = useSpawnedServer('drain');

  for (const workers of [1, 2]) {
    it(`answers what it accepted, sends goAway, exits 0 and loses nothing acknowledged (--workers ${workers})`, async () => {
      const server = await spawned.start(['--workers', String(workers), '--drain-grace-ms', '10000', '--drain-spread-ms', '2000']);
      const alice = await spawned.device('alice');
      await spawned.device('bob');
      const goAways: number[] = [];
      const acked: number[] = [];
      const refused: string[] = [];
      const other: string[] = [];
      const outstanding = new Set<string>();
      let inFlightAtGoAway: string[] | undefined;
      alice.onOther = (frame) => {
        if (frame.opcode !== Opcode.goAway) return;
        goAways.push(readBody(frame, Bodies.goAway).reconnectAfterMs);
        inFlightAtGoAway = [...outstanding];
      };
      const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
      let sent = 0;
      let signalled = false;
      // Eight streams of sends, each sending its next on the answer to its last, as a busy client
      // would; the signal comes after 40 acks; after goAway the client sends nothing new (§13.2).
      const next = () => {
        if (inFlightAtGoAway !== undefined || sent >= MAX_SENDS) return;
        const id = `c${sent++}`;
        outstanding.add(id);
        alice.send(id, 'bob', id, (ack, code) => {
          outstanding.delete(id);
          if (ack) acked.push(ack.seq);
          else if (code === ErrorCode.shuttingDown) refused.push(id);
          else other.push(`${id}: ${code}`);
          if (!signalled && acked.length >= 40) {
            signalled = true;
            server.child.kill('SIGTERM');
          }
          next();
        });
      };
      for (let i = 0; i < STREAMS; i++) next();
      assert.equal(await exited, 0, 'exit code 0 after the drain');
      spawned.exited();
      await waitUntil(() => alice.isClosed, 'the connection is closed by the server');
      assert.equal(goAways.length, 1, 'one goAway');
      assert.ok(goAways[0]! >= 0 && goAways[0]! < 2_000, `reconnectAfterMs ${goAways[0]} within the spread`);
      assert.deepEqual(other, [], 'every answer is a sendAck or 5003');
      // The server answers in order: requests it accepted before the drain come before the first
      // one it refused 5003, and each of those is answered. Those after the refusal may go
      // unanswered when the connection closes; the client resends them on its next connection.
      const firstRefused = Math.min(...refused.map((id) => Number(id.slice(1))));
      const unanswered = [...outstanding].filter((id) => Number(id.slice(1)) < firstRefused);
      assert.deepEqual(unanswered, [], `every request accepted before the drain was answered (${inFlightAtGoAway?.length} in flight at the goAway, ${acked.length} acked, ${refused.length} refused)`);

      const store = openEmbeddedStore({ path: spawned.dataDir });
      try {
        const page = await store.history.page('p:alice:bob', undefined, 1000);
        const stored = new Set(page.messages.map((m) => m.seq));
        for (const seq of acked) assert.ok(stored.has(seq), `acknowledged seq ${seq} was lost`);
      } finally {
        await store.close();
      }
    });
  }
});
