/**
 * The baseline of the rooms bench: what a room costs without batching or shared bytes. Each
 * message is framed on its own and encoded again for every viewer (as a per-viewer routing loop
 * that pushes each message to each connection would), under the same drop policy, so the two
 * fan-outs differ only in how they write.
 */
import { encodeFrame } from '../../codec/index.ts';
import { Bodies } from '../../protocol/bodies.ts';
import { Opcode } from '../../protocol/opcodes.ts';
import type { RoomFanout } from '../../server/gateway/rooms/fanout.ts';
import type { ConnectionId } from '../../server/seam.ts';

export const naiveFanout: RoomFanout = (viewers, body, now, config, stats) => {
  const remove: ConnectionId[] = [];
  for (const state of viewers) {
    const { viewer } = state;
    if (viewer.outputBytes > config.maxBytes) {
      remove.push(viewer.id);
      continue;
    }
    for (const message of body.messages) {
      if (message.seq === 0 && viewer.outputBytes > config.queueBytes) {
        stats.dropped++;
        continue;
      }
      stats.encodes++;
      const frame = encodeFrame(Opcode.roomPush, 0, Bodies.roomPush, { ...body, messages: [message] }, config);
      viewer.writeFrameBytes([frame]);
      stats.frames++;
      stats.deliveries++;
      stats.bytes += frame.length;
    }
  }
  return remove;
};
