import { DEFAULT_COMPRESS_THRESHOLD, DEFAULT_MAX_FRAME_SIZE, DEFAULT_MAX_RAW_BODY_SIZE } from '../../protocol/header.ts';
import { Limits, Timers } from '../../protocol/timers.ts';

/** Everything the gateway needs to know about limits and timers; defaults come from the protocol. */
export interface GatewayConfig {
  readonly serverName: string;
  readonly heartbeatMs: number;
  readonly idleTimeoutMs: number;
  readonly loginDeadlineMs: number;
  readonly maxFrameSize: number;
  readonly maxRawBodySize: number;
  readonly compressThreshold: number;
  readonly pushWindow: number;
  readonly pushQueue: number;
  readonly pushAckTimeoutMs: number;
  readonly pushMaxRetries: number;
  readonly framesPerSecond: number;
  /** Decompressed body bytes per second per connection: 1009 above, closed above twice (FrameRate). */
  readonly bodyBytesPerSecond: number;
  /**
   * The largest body a client may send, decompressed; frames above 16 + this are 1001 and raw
   * lengths above it 1005, both fatal (policy: close). Advertised as serverHello.maxRequestSize.
   */
  readonly maxRequestSize: number;
  /** 1006 answers a connection that has not logged in gets before it is closed (policy: close). */
  readonly preLoginBadBodies: number;
  readonly maxWriteBufferBytes: number;
  /**
   * Requests of one connection the logic may be working on at once. At the bound the gateway stops
   * reading the socket (back-pressure: TCP slows the client) and reads again at half of it.
   */
  readonly maxRequestsInFlight: number;
  /**
   * Body bytes (decompressed) of those requests at once: without it 256 requests of 256 KiB could
   * hold 64 MiB of one connection's input. The same back-pressure (request-gate.ts).
   */
  readonly maxRequestBytesInFlight: number;
  /** Connections this process accepts in total and per second; beyond either, new ones get `overloaded`. */
  readonly maxConnections: number;
  readonly maxAcceptsPerSecond: number;
  /** Connections not yet logged in (TLS handshakes included), in total and per remote address (admission.ts). */
  readonly maxPreLogin: number;
  readonly maxPreLoginPerAddress: number;
  /** Granularity of the deadline sweep. */
  readonly sweepResolutionMs: number;
  /** A room batch leaves at this many messages or this long after its first message (SPEC §19.4). */
  readonly roomBatchMessages: number;
  readonly roomBatchMs: number;
  /** Room viewers' output bounds: drop ordinary messages above the first, leave the room above the second (SPEC §19.5). */
  readonly roomViewerQueueBytes: number;
  readonly roomViewerMaxBytes: number;
  readonly roomSlowViewerMs: number;
}

export const defaultGatewayConfig: GatewayConfig = {
  serverName: 'tern/0.1',
  heartbeatMs: Timers.heartbeatMs,
  idleTimeoutMs: Timers.idleTimeoutMs,
  loginDeadlineMs: Timers.loginDeadlineMs,
  maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
  maxRawBodySize: DEFAULT_MAX_RAW_BODY_SIZE,
  compressThreshold: DEFAULT_COMPRESS_THRESHOLD,
  pushWindow: Limits.pushWindow,
  pushQueue: Limits.pushQueue,
  pushAckTimeoutMs: Timers.pushAckTimeoutMs,
  pushMaxRetries: Timers.pushMaxRetries,
  framesPerSecond: Limits.framesPerSecond,
  bodyBytesPerSecond: Limits.bodyBytesPerSecond,
  maxRequestSize: Limits.maxRequestSize,
  preLoginBadBodies: Limits.preLoginBadBodies,
  maxWriteBufferBytes: Limits.maxWriteBufferBytes,
  maxRequestsInFlight: 256,
  maxRequestBytesInFlight: 1024 * 1024,
  maxConnections: 19_000,
  maxAcceptsPerSecond: 5_000,
  maxPreLogin: 4_096,
  maxPreLoginPerAddress: 256,
  sweepResolutionMs: 250,
  roomBatchMessages: Limits.roomBatchMessages,
  roomBatchMs: Limits.roomBatchMs,
  roomViewerQueueBytes: Limits.roomViewerQueueBytes,
  roomViewerMaxBytes: Limits.roomViewerMaxBytes,
  roomSlowViewerMs: Limits.roomSlowViewerMs,
};
