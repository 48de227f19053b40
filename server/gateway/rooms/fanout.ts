/**
 * Writing one batch to a room's viewers. The batched fan-out encodes the batch once and hands
 * every viewer the same bytes, under the drop policy of viewer.ts; it returns the viewers to take
 * out of the room. (The bench compares it with a naive fan-out that encodes per viewer.)
 */
import type { EncodeOptions } from '../../../codec/index.ts';
import type { BodyOf } from '../../../protocol/bodies.ts';
import type { ConnectionId } from '../../seam.ts';
import { EncodedBatch } from './room-batch.ts';
import type { RoomDeliveryStats, ViewerLimits, ViewerState } from './viewer.ts';

export type RoomFanout = (
  viewers: Iterable<ViewerState>,
  body: BodyOf<'roomPush'>,
  now: number,
  config: ViewerLimits & EncodeOptions,
  stats: RoomDeliveryStats,
) => ConnectionId[];

export const batchedFanout: RoomFanout = (viewers, body, now, config, stats) => {
  const batch = new EncodedBatch(body, config);
  const remove: ConnectionId[] = [];
  for (const state of viewers) if (state.deliver(batch, now, config, stats) === 'remove') remove.push(state.viewer.id);
  return remove;
};
