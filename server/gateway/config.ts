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
  readonly maxWriteBufferBytes: number;
  /**
   * Requests of one connection the logic may be working on at once. At the bound the gateway stops
   * reading the socket (back-pressure: TCP slows the client) and reads again at half of it.
   */
  readonly maxRequestsInFlight: number;
  /** Connections this process accepts in total and per second; beyond either, new ones get `overloaded`. */
  readonly maxConnections: number;
  readonly maxAcceptsPerSecond: number;
  /** Granularity of the deadline sweep. */
  readonly sweepResolutionMs: number;
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
  maxWriteBufferBytes: Limits.maxWriteBufferBytes,
  maxRequestsInFlight: 256,
  maxConnections: 19_000,
  maxAcceptsPerSecond: 5_000,
  sweepResolutionMs: 250,
};
