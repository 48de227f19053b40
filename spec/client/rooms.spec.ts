/** The SDK's room state: reliable messages released once, in seq order, with gaps pulled before later ones are released. */
import assert from 'node:assert/strict';
import type { BodyOf, RoomMessageRecord } from '../../protocol/bodies.ts';
import { ClientRooms } from '../../client/rooms.ts';

const m = (seq: number, content = `s${seq}`): RoomMessageRecord => ({ messageId: `id${seq}-${content}`, from: 'a', kind: 1, content, sentAt: 1, seq });
const batch = (messages: RoomMessageRecord[], reliableSeq: number): BodyOf<'roomPush'> => ({ roomId: 'r', reliableSeq, online: 1, messages });

function setup(log: RoomMessageRecord[], room = { latest: 0 }) {
  const pulls: number[] = [];
  const released: string[] = [];
  const dropped: [string, number][] = [];
  const rooms = new ClientRooms(
    {
      join: async (roomId) => ({ roomId, reliableSeq: room.latest, oldestSeq: 1, online: 1 }),
      pull: async (roomId, afterSeq) => {
        pulls.push(afterSeq);
        const messages = log.filter((x) => x.seq > afterSeq).slice(0, 2);
        return { roomId, messages, hasMore: log.some((x) => x.seq > (messages.at(-1)?.seq ?? afterSeq)), latestSeq: log.length, oldestSeq: 1 };
      },
    },
    { message: (_roomId, message) => released.push(message.content), dropped: (roomId, count) => dropped.push([roomId, count]) },
  );
  return { rooms, pulls, released, dropped };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe('SDK room state', () => {
  it('releases ordinary messages as they come and reliable ones in seq order, each once', async () => {
    const { rooms, released, pulls } = setup([]);
    await rooms.join('r');
    rooms.onBatch(0, batch([m(0, 'hi'), m(1), m(2)], 2));
    rooms.onBatch(0, batch([m(2), m(0, 'again')], 2));
    await settle();
    assert.deepEqual(released, ['hi', 's1', 's2', 'again']);
    assert.deepEqual(pulls, []);
  });

  it('pulls a gap in pages before releasing the reliable messages after it', async () => {
    const log = [m(1), m(2), m(3), m(4), m(5)];
    const { rooms, released, pulls } = setup(log);
    await rooms.join('r');
    rooms.onBatch(0, batch([m(5), m(0, 'comment')], 5));
    await settle();
    assert.deepEqual(released, ['comment', 's1', 's2', 's3', 's4', 's5']);
    assert.deepEqual(pulls, [0, 2], 'the page that reaches the waiting seq 5 ends the pull');
  });

  it('pulls when a batch says the room is ahead, and reports dropped counts', async () => {
    const { rooms, released, dropped } = setup([m(1), m(2)]);
    await rooms.join('r');
    rooms.onBatch(7, batch([m(0, 'x')], 2));
    await settle();
    assert.deepEqual(released, ['x', 's1', 's2']);
    assert.deepEqual(dropped, [['r', 7]]);
  });

  it('ignores batches of a room it was taken out of, and a join afterwards pulls only what it missed', async () => {
    const log = [m(1), m(2), m(3)];
    const room = { latest: 1 };
    const { rooms, released, pulls } = setup(log, room);
    await rooms.join('r');
    rooms.onBatch(0, batch([], 1));
    rooms.suspend('r');
    rooms.onBatch(0, batch([m(2)], 2));
    assert.deepEqual(rooms.joined, []);
    room.latest = 3;
    await rooms.join('r');
    await settle();
    assert.deepEqual(released, ['s2', 's3']);
    assert.deepEqual(pulls, [1]);
  });
});
