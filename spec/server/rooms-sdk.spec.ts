/** The SDK in live rooms: room messages as events, reliable ones once each in seq order, and what a reconnect missed pulled by range. */
import assert from 'node:assert/strict';
import type { RoomMessageRecord } from '../../protocol/bodies.ts';
import { startTestServer, waitUntil, type TestServer } from '../support/server.ts';

describe('live rooms in the SDK', () => {
  let server: TestServer | undefined;

  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('emits room messages in order, and after a reconnect rejoins and pulls the reliable ones it missed', async () => {
    server = await startTestServer();
    const gifter = server.client('gifter');
    // Reconnected by the test, after the gifts, so that they can only come by pull.
    const viewer = server.client('viewer', { reconnect: false });
    await Promise.all([gifter.connect(), viewer.connect()]);
    await gifter.joinRoom('stage');
    await viewer.joinRoom('stage');
    const got: RoomMessageRecord[] = [];
    viewer.on('roomMessage', (roomId, message) => {
      assert.equal(roomId, 'stage');
      got.push(message);
    });
    await gifter.sendRoom('stage', 'hello');
    const ack = await gifter.sendRoom('stage', 'rose', { reliable: true, kind: 7 });
    assert.equal(ack.seq, 1);
    await waitUntil(() => got.length === 2, 'two room messages');
    assert.deepEqual(got.map((m) => [m.content, m.seq]), [['hello', 0], ['rose', 1]]);

    // The viewer's connection drops; gifts sent meanwhile are pulled after it rejoins.
    viewer.connection?.destroy(undefined);
    await waitUntil(() => viewer.status === 'closed', 'the viewer to notice');
    for (let i = 2; i <= 4; i++) assert.equal((await gifter.sendRoom('stage', `gift ${i}`, { reliable: true })).seq, i);
    await gifter.sendRoom('stage', 'missed comment');
    await viewer.connect();
    await waitUntil(() => got.filter((m) => m.seq > 0).length === 4, 'the missed gifts', 10_000);
    assert.ok(!got.some((m) => m.content === 'missed comment'), 'ordinary messages are not pulled');
    assert.deepEqual(got.filter((m) => m.seq > 0).map((m) => m.seq), [1, 2, 3, 4], 'each gift once, in seq order');
    await gifter.sendRoom('stage', 'after');
    await waitUntil(() => got.at(-1)?.content === 'after', 'the room again after the reconnect');
  });
});
