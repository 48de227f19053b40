import assert from 'node:assert/strict';
import type { MessageRecord } from '../../protocol/bodies.ts';
import { startTestServer, waitUntil, type TestServer } from '../support/server.ts';

describe('groups through the SDK', () => {
  let server: TestServer;
  afterEach(async () => server?.stop());

  it('delivers group posts in seq order, and catches up a device from its persisted cursors exactly once', async () => {
    server = await startTestServer({ gateway: { framesPerSecond: 100_000 } });
    const alice = server.client('alice');
    const bob = server.client('bob');
    await Promise.all([alice.connect(), bob.connect()]);
    const group = await alice.groups.create('trip', ['bob']);
    const live: MessageRecord[] = [];
    bob.on('message', (m) => live.push(m));
    await Promise.all(Array.from({ length: 30 }, (_, i) => alice.sendToGroup(group.groupId, `live ${i}`)));
    await waitUntil(() => live.filter((m) => m.kind === 1).length === 30, 'bob gets the 30 live posts');
    assert.deepEqual(live.map((m) => m.seq), [...live.map((m) => m.seq)].sort((a, b) => a - b));
    const cursors = bob.groupCursors;
    assert.equal(cursors[group.groupId], 31, 'the cursor is at the last post (the creation event is seq 1)');
    bob.close();

    await Promise.all(Array.from({ length: 50 }, (_, i) => alice.sendToGroup(group.groupId, `while away ${i}`)));
    const back = server.client('bob', { register: false, groupCursors: cursors });
    const caughtUp: MessageRecord[] = [];
    back.on('message', (m) => caughtUp.push(m));
    await back.connect();
    await waitUntil(() => caughtUp.length >= 50, 'the 50 posts made while away');
    await alice.sendToGroup(group.groupId, 'after');
    await waitUntil(() => caughtUp.length === 51, 'the live post after catching up');
    assert.deepEqual(caughtUp.map((m) => m.seq), Array.from({ length: 51 }, (_, i) => 32 + i), 'each missing entry once, in order, then the live one');
    assert.equal(back.groupCursors[group.groupId], 82);
  });
});
