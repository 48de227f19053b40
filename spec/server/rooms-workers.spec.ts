/** A live room across the gateway workers of one node (`--workers 2`): each worker writes the room's batches to its own viewers. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnServer, stopProcess, type ServerProcess } from '../support/process.ts';
import { RoomPeer } from '../support/room-peer.ts';
import { waitUntil } from '../support/server.ts';

describe('live rooms with gateway workers', function () {
  this.timeout(60_000);
  let server: ServerProcess | undefined;
  let dataDir = '';
  const peers: RoomPeer[] = [];

  afterEach(async () => {
    for (const p of peers.splice(0)) p.close();
    if (server) await stopProcess(server.child, 'SIGKILL');
    server = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers every message, ordinary and reliable, to viewers on every worker, once each', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tern-rooms-proc-'));
    const port = await freePort();
    server = await spawnServer(['--workers', '2', '--data-dir', dataDir, '--scrypt-cost', '1024'], port);
    // The primary hands connections to the workers in turn: eight viewers land on both.
    for (let i = 0; i < 8; i++) peers.push(await RoomPeer.register(port, `v${i}`));
    for (const p of peers) await p.join('shared');
    const sender = peers[0] as RoomPeer;
    for (let i = 0; i < 10; i++) assert.ok((await sender.roomSend('shared', `m${i}`, i % 5 === 4)).ok);
    await waitUntil(() => peers.every((p) => p.messages().length === 10), 'ten messages at every viewer');
    for (const p of peers) {
      const got = p.messages();
      assert.deepEqual(got.filter((m) => m.seq === 0).map((m) => m.content), ['m0', 'm1', 'm2', 'm3', 'm5', 'm6', 'm7', 'm8']);
      assert.deepEqual(got.filter((m) => m.seq > 0).map((m) => [m.seq, m.content]), [[1, 'm4'], [2, 'm9']]);
    }
    const last = peers.at(-1) as RoomPeer;
    assert.equal(last.batches.at(-1)?.body.online, 8, 'the logic counts viewers on both workers');
  });
});
