/**
 * The fixed 16-byte frame header. Every multi-byte integer on the wire is big-endian.
 *
 *   0       4    5     6        8            12              16
 *   +-------+----+-----+--------+------------+---------------+----------
 *   |length |ver |flags| opcode | request id | raw length    | body ...
 *   | u32   | u8 | u8  | u16    | or SID u32 | u32           |
 *   +-------+----+-----+--------+------------+---------------+----------
 *
 * `length` counts the whole frame, header included, so a reader knows from the first four bytes
 * how much to wait for. `raw length` is the body's size before compression when the LZ4 flag is
 * set and must be zero otherwise.
 */
export const HEADER_SIZE = 16;

export const HeaderOffset = {
  length: 0,
  version: 4,
  flags: 5,
  opcode: 6,
  requestId: 8,
  rawLength: 12,
} as const;

export const PROTOCOL_VERSION = 1;

export const FrameFlag = {
  /** The body is one LZ4 block (no LZ4 frame header); `raw length` gives its decompressed size. */
  lz4: 0x01,
} as const;

/** Flags a v1 peer may set; any other bit set is a protocol error. */
export const KNOWN_FLAGS = FrameFlag.lz4;

/** Default largest frame (header included) a peer accepts; the server advertises its own value. */
export const DEFAULT_MAX_FRAME_SIZE = 1024 * 1024;

/** Default largest decompressed body; bounds the memory one compressed frame can claim. */
export const DEFAULT_MAX_RAW_BODY_SIZE = 8 * 1024 * 1024;

/** Bodies at least this long are LZ4-compressed by default when compression saves bytes. */
export const DEFAULT_COMPRESS_THRESHOLD = 1024;

/** Request ids and SIDs are unsigned 32-bit and wrap from 2^32-1 to 1; 0 means "none". */
export const MAX_REQUEST_ID = 0xffffffff;
