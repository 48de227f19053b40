/**
 * Counters the connections of one gateway increment on the hot path: plain numbers, read by the
 * metrics endpoint when it is scraped.
 */
export interface ConnectionCounters {
  /** Socket flushes: one per connection per turn in which something was written to it. */
  flushes: number;
  /** Frames written, first sends, retransmissions and replies alike. */
  frames: number;
  framesIn: number;
  logins: number;
  /** Failed register and login requests, by error code. */
  loginFailures: Record<number, number>;
  /** `send` requests acknowledged with a sendAck. */
  messagesIn: number;
  /** Inbox entries pushed (first sends) and pushes resent with their SID. */
  pushes: number;
  retransmits: number;
  syncPages: number;
  syncBytes: number;
}
