/**
 * Every timer of protocol v1 with its default. The server advertises the ones a client must
 * follow in its server hello; the rest are client-side recommendations that SPEC.md explains.
 */
export const Timers = {
  /** Client sends a ping after this long without sending anything. Advertised in server hello. */
  heartbeatMs: 30_000,
  /** Server closes a connection that sent nothing for this long (2.5 heartbeats, so one lost ping is tolerated). */
  idleTimeoutMs: 75_000,
  /** Server closes a connection that has not logged in this long after connecting. */
  loginDeadlineMs: 10_000,
  /** First retransmission of an unacknowledged push; doubles per retry. */
  pushAckTimeoutMs: 5_000,
  /** Retransmissions of one push before the server gives up and closes the connection. */
  pushMaxRetries: 3,
  /** Client resends an unacknowledged send (same client message id) after this long; doubles per retry up to sendResendMaxMs. */
  sendResendMs: 5_000,
  sendResendMaxMs: 60_000,
  /** Client reconnect backoff: min(max, base * 2^attempt) with full jitter. */
  reconnectBaseMs: 1_000,
  reconnectMaxMs: 60_000,
  /** Delay the server asks for in go-away is jittered within this range. */
  goAwaySpreadMs: 10_000,
} as const;

export const Limits = {
  /** Unacknowledged pushes in flight per connection; further pushes queue behind the window. */
  pushWindow: 64,
  /** Pushes queued behind a full window before the connection is closed as a slow consumer. */
  pushQueue: 1_024,
  /** Frames per second a connection may send before rateLimited errors, and twice that before it is closed. */
  framesPerSecond: 200,
  /** Decompressed body bytes per second a connection may send before 1009, and twice that before it is closed. */
  bodyBytesPerSecond: 2 * 1024 * 1024,
  /**
   * The largest request body, decompressed. The largest valid request is a send with 65,536
   * UTF-16 units of content (at most 196,608 UTF-8 bytes) and three ids: about 197 KB.
   */
  maxRequestSize: 256 * 1024,
  /** Malformed bodies (1006) a connection that has not logged in may send; the last one closes it. */
  preLoginBadBodies: 3,
  /** Outbound bytes the socket may buffer before the connection is closed as a slow consumer. */
  maxWriteBufferBytes: 4 * 1024 * 1024,
  /** Rooms one connection (device) may be in at once; one more join is 4101. */
  roomsPerDevice: 8,
  /** Room messages one sender may send per second (fixed window); beyond it 4103. */
  roomSendsPerSecond: 20,
  /** Output a room viewer's socket may hold before its ordinary room messages are dropped (counted). */
  roomViewerQueueBytes: 256 * 1024,
  /** Output above which a room viewer is removed from the room at once (below the connection's own bound). */
  roomViewerMaxBytes: 1024 * 1024,
  /** A viewer that stays over its queue bound this long is removed from the room (roomLeft), not disconnected. */
  roomSlowViewerMs: 5_000,
  /** A room batch is flushed at this many messages, or roomBatchMs after its first message, whichever first. */
  roomBatchMessages: 256,
  roomBatchMs: 20,
  /** Reliable room messages kept per room (and for roomLogRetentionMs); older ones are no longer pullable. */
  roomLogEntries: 1_000,
  roomLogRetentionMs: 24 * 3600 * 1000,
  /** roomPull page size: default and maximum. */
  roomPullLimit: 100,
  /**
   * Body bytes (before compression) the server puts in one sync page, history page or
   * conversation list, well below the 1 MiB frame: a page is cut there and says `hasMore`.
   */
  pageBudgetBytes: 512 * 1024,
} as const;
