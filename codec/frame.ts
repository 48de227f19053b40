import { FrameFlag } from '../protocol/header.ts';

/** One decoded frame. `body` is a view into the received bytes (or a copy when the frame spanned reads). */
export interface Frame {
  readonly version: number;
  readonly flags: number;
  readonly opcode: number;
  /** Request id for requests and replies, SID for pushes; 0 when unused. */
  readonly requestId: number;
  /** The decompressed body size when the body is LZ4-compressed, else 0. */
  readonly rawLength: number;
  readonly body: Buffer;
}

export function isCompressed(frame: Frame): boolean {
  return (frame.flags & FrameFlag.lz4) !== 0;
}
