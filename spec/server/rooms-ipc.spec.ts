/** With gateway workers, a room's messages of one turn cross IPC as one message per worker, whatever the number of viewers. */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:cluster';
import { LogicHost } from '../../server/cluster/logic-host.ts';
import type { LogicToWorker } from '../../server/cluster/messages.ts';
import { LocalRoomBroadcast } from '../../server/logic/rooms/broadcast.ts';
import type { LogicApi } from '../../server/seam.ts';

/** Enough of a cluster worker for the logic host: an id, a connected flag and the messages sent to it. */
class FakeWorker extends EventEmitter {
  readonly sent: LogicToWorker[] = [];
  constructor(readonly id: number) {
    super();
  }
  isConnected(): boolean {
    return true;
  }
  send(message: LogicToWorker): boolean {
    this.sent.push(message);
    return true;
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('room broadcast over IPC', () => {
  it('sends each worker one IPC message per turn with the room batch, for a hundred messages', async () => {
    const host = new LogicHost({} as LogicApi, () => undefined);
    const workers = [new FakeWorker(1), new FakeWorker(2)];
    for (const worker of workers) host.attach(worker as unknown as Worker);
    const broadcast = new LocalRoomBroadcast();
    broadcast.attach((batch) => host.roomPublish(batch));
    for (let i = 0; i < 100; i++) {
      broadcast.publish('hall', { messageId: `m${i}`, from: 'ann', kind: 1, content: `c${i}`, sentAt: 1, seq: 0 }, { reliableSeq: 0, online: 10_000 });
    }
    await turn();
    await turn();
    for (const worker of workers) {
      assert.equal(worker.sent.length, 1, 'one IPC message per worker');
      const [message] = worker.sent;
      assert.ok(message?.kind === 'batch');
      assert.equal(message.messages.length, 1, 'one room batch in it');
      const [room] = message.messages;
      assert.ok(room?.kind === 'room');
      assert.equal(room.batch.roomId, 'hall');
      assert.deepEqual(room.batch.messages.map((m) => m.messageId), Array.from({ length: 100 }, (_, i) => `m${i}`));
    }
  });
});
