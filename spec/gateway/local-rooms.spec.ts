/** A gateway's rooms with the batch timer and the viewers' buffers under the test's control. */
import assert from 'node:assert/strict';
import { FrameDecoder, readBody, type Frame } from '../../codec/index.ts';
import { Bodies, RoomLeftReason, type BodyOf, type RoomMessageRecord } from '../../protocol/bodies.ts';
import { FrameFlag } from '../../protocol/header.ts';
import { LocalRooms, type Schedule } from '../../server/gateway/rooms/local-rooms.ts';
import { emptyRoomStats, type RoomViewer } from '../../server/gateway/rooms/viewer.ts';
import { ManualClock } from '../support/server.ts';

class FakeViewer implements RoomViewer {
  outputBytes = 0;
  readonly chunks: Buffer[] = [];
  readonly left: BodyOf<'roomLeft'>[] = [];
  constructor(readonly id: string) {}
  writeFrameBytes(chunks: readonly Buffer[]): void {
    this.chunks.push(...chunks);
  }
  roomLeft(body: BodyOf<'roomLeft'>): void {
    this.left.push(body);
  }
  frames(): Frame[] {
    const frames: Frame[] = [];
    new FrameDecoder({ maxFrameSize: 1 << 20 }).push(Buffer.concat(this.chunks), (f) => frames.push(f));
    return frames;
  }
  batches(): { dropped: number; body: BodyOf<'roomPush'> }[] {
    return this.frames().map((f) => ({ dropped: f.requestId, body: readBody(f, Bodies.roomPush) }));
  }
}

/** A schedule whose timers run when the test says. */
function manualSchedule(): { schedule: Schedule; due: number[]; fire(): void } {
  let runs: (() => void)[] = [];
  const due: number[] = [];
  return {
    due,
    schedule: (ms, run) => {
      due.push(ms);
      runs.push(run);
      return () => (runs = runs.filter((r) => r !== run));
    },
    fire: () => {
      const now = runs;
      runs = [];
      for (const run of now) run();
    },
  };
}

const message = (n: number, seq = 0, content = `m${n}`): RoomMessageRecord => ({ messageId: `id${n}`, from: 'ann', kind: 1, content, sentAt: 1, seq });
const config = { batchMessages: 4, batchMs: 20, queueBytes: 1000, maxBytes: 10_000, slowViewerMs: 5_000, compressThreshold: 1024 };

describe('gateway rooms', () => {
  it('holds messages until the batch delay, then writes one encoded batch, the same bytes, to every viewer', () => {
    const timer = manualSchedule();
    const stats = emptyRoomStats();
    const rooms = new LocalRooms(config, new ManualClock(), stats, () => undefined, timer.schedule);
    const viewers = [new FakeViewer('a'), new FakeViewer('b'), new FakeViewer('c')];
    for (const v of viewers) rooms.join(v, 'hall');
    rooms.publish({ roomId: 'hall', messages: [message(1), message(2)], reliableSeq: 0, online: 3 });
    rooms.publish({ roomId: 'hall', messages: [message(3)], reliableSeq: 0, online: 3 });
    assert.deepEqual(timer.due, [20], 'one timer for the batch');
    assert.equal(viewers[0]!.chunks.length, 0, 'nothing before the delay');
    timer.fire();
    for (const v of viewers) {
      assert.equal(v.chunks.length, 1);
      assert.equal(v.chunks[0], viewers[0]!.chunks[0], 'one shared buffer');
      assert.deepEqual(v.batches()[0]!.body.messages.map((m) => m.messageId), ['id1', 'id2', 'id3']);
    }
    assert.equal(stats.encodes, 1);
    assert.equal(stats.deliveries, 9);
  });

  it('writes at once when a batch reaches its size, and splits a larger publish into batches of that size', () => {
    const timer = manualSchedule();
    const rooms = new LocalRooms(config, new ManualClock(), emptyRoomStats(), () => undefined, timer.schedule);
    const viewer = new FakeViewer('a');
    rooms.join(viewer, 'hall');
    rooms.publish({ roomId: 'hall', messages: Array.from({ length: 10 }, (_, i) => message(i)), reliableSeq: 0, online: 1 });
    assert.deepEqual(viewer.batches().map((b) => b.body.messages.length), [4, 4, 2]);
    assert.deepEqual(timer.due, [], 'no timer needed');
  });

  it('compresses a large batch once, with the LZ4 flag in the shared header', () => {
    const timer = manualSchedule();
    const rooms = new LocalRooms(config, new ManualClock(), emptyRoomStats(), () => undefined, timer.schedule);
    const viewer = new FakeViewer('a');
    rooms.join(viewer, 'hall');
    rooms.publish({ roomId: 'hall', messages: Array.from({ length: 4 }, (_, i) => message(i, 0, 'the same comment again and again '.repeat(10))), reliableSeq: 0, online: 1 });
    const [frame] = viewer.frames();
    assert.equal(frame!.flags, FrameFlag.lz4);
    assert.ok(frame!.body.length < frame!.rawLength / 4, `${frame!.body.length} of ${frame!.rawLength}`);
    assert.equal(readBody(frame!, Bodies.roomPush).messages.length, 4);
  });

  it('drops ordinary messages for a backed-up viewer, writes its reliable ones, reports the count, and removes it when it stays slow', () => {
    const timer = manualSchedule();
    const clock = new ManualClock();
    const stats = emptyRoomStats();
    const removed: string[] = [];
    const rooms = new LocalRooms(config, clock, stats, (id, roomId) => removed.push(`${id}@${roomId}`), timer.schedule);
    const fast = new FakeViewer('fast');
    const slow = new FakeViewer('slow');
    rooms.join(fast, 'hall');
    rooms.join(slow, 'hall');
    slow.outputBytes = 2_000;
    rooms.publish({ roomId: 'hall', messages: [message(1), message(2, 1), message(3), message(4)], reliableSeq: 1, online: 2 });
    assert.deepEqual(slow.batches().map((b) => b.body.messages.map((m) => m.messageId)), [['id2']], 'only the reliable one');
    assert.equal(stats.dropped, 3);
    slow.outputBytes = 0;
    rooms.publish({ roomId: 'hall', messages: [message(5), message(6), message(7), message(8)], reliableSeq: 1, online: 2 });
    assert.deepEqual(slow.batches().map((b) => b.dropped), [3, 0], 'the reliable-only batch carries the count of the ordinary ones left out');
    slow.outputBytes = 2_000;
    rooms.publish({ roomId: 'hall', messages: [message(9), message(10), message(11), message(12)], reliableSeq: 1, online: 2 });
    slow.outputBytes = 0;
    rooms.publish({ roomId: 'hall', messages: [message(13), message(14), message(15), message(16)], reliableSeq: 1, online: 2 });
    assert.equal(slow.batches().at(-1)?.dropped, 4, 'a batch with nothing reliable is dropped whole, and counted in the next one');
    slow.outputBytes = 2_000;
    rooms.publish({ roomId: 'hall', messages: [message(17), message(18), message(19), message(20)], reliableSeq: 1, online: 2 });
    assert.equal(slow.left.length, 0, 'slow, but not for long yet');
    clock.advance(5_000);
    rooms.publish({ roomId: 'hall', messages: [message(21), message(22), message(23), message(24)], reliableSeq: 1, online: 2 });
    assert.deepEqual(slow.left, [{ roomId: 'hall', reason: RoomLeftReason.slowViewer }]);
    assert.deepEqual(removed, ['slow@hall']);
    assert.equal(rooms.viewers('hall'), 1);
    assert.equal(fast.batches().flatMap((b) => b.body.messages).length, 24, 'the fast viewer missed nothing');
  });
});
