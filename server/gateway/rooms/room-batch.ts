/**
 * One roomPush batch, encoded once for every viewer of the room on this gateway: its body
 * (LZ4-compressed when large, codec/) and a complete frame of it with a zero dropped count, which
 * most viewers receive as one shared buffer. A viewer with a non-zero count gets its own 16-byte
 * header (the count is the header's request-id field, SPEC §19.4) before the same body bytes.
 * A copy with the reliable messages only is encoded, once too, when a slow viewer needs it.
 */
import { frameHeader, prepareBody, type EncodeOptions, type PreparedBody } from '../../../codec/index.ts';
import { Bodies, type BodyOf } from '../../../protocol/bodies.ts';
import { Opcode } from '../../../protocol/opcodes.ts';
import type { RoomDeliveryStats } from './viewer.ts';

const MAX_COUNT = 0xffff_ffff;

interface Encoded {
  readonly body: PreparedBody;
  readonly frame: Buffer;
}

export class EncodedBatch {
  readonly ordinary: number;
  readonly reliable: number;
  private all: Encoded | undefined;
  private reliableOnly: Encoded | undefined;

  constructor(
    private readonly body: BodyOf<'roomPush'>,
    private readonly options: EncodeOptions,
  ) {
    let reliable = 0;
    for (const message of body.messages) if (message.seq > 0) reliable++;
    this.reliable = reliable;
    this.ordinary = body.messages.length - reliable;
  }

  /** The bytes to write to a viewer that missed `dropped` ordinary messages before this batch. */
  frame(dropped: number, reliableOnly: boolean, stats: RoomDeliveryStats): readonly Buffer[] {
    const encoded = reliableOnly ? (this.reliableOnly ??= this.encode(true, stats)) : (this.all ??= this.encode(false, stats));
    if (dropped === 0) return [encoded.frame];
    return [frameHeader(Opcode.roomPush, Math.min(dropped, MAX_COUNT), encoded.body), encoded.body.bytes];
  }

  private encode(reliableOnly: boolean, stats: RoomDeliveryStats): Encoded {
    stats.encodes++;
    const body = reliableOnly ? { ...this.body, messages: this.body.messages.filter((m) => m.seq > 0) } : this.body;
    const prepared = prepareBody(Bodies.roomPush, body, this.options);
    return { body: prepared, frame: Buffer.concat([frameHeader(Opcode.roomPush, 0, prepared), prepared.bytes]) };
  }
}
