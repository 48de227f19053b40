/** What workers and the coordinator say to each other (over IPC, or over TCP through an agent). */
import type { CheckResult } from './checker.ts';
import type { Scenario } from './scenario.ts';

export interface WorkerAssignment {
  readonly kind: 'start';
  readonly index: number;
  readonly scenario: Scenario;
  /** Users [firstUser, endUser) — whole pairs, so a conversation's both ends are checked in one place. */
  readonly firstUser: number;
  readonly endUser: number;
  /** Local address to bind, when the scenario names source addresses. */
  readonly sourceAddress: string | undefined;
}

export interface Counters {
  connected: number;
  connectFailures: number;
  connectRetries: number;
  disconnects: number;
  reconnects: number;
  sent: number;
  acked: number;
  delivered: number;
  /** Live rooms: ordinary room messages delivered, and those the server reported dropped. */
  roomOrdinary: number;
  roomDropped: number;
  /** Slow room devices (roomSlowShare), their read stalls, removals from a room by the server and rejoins. */
  roomSlowDevices: number;
  roomStalls: number;
  roomRemoved: number;
  roomRejoins: number;
}

export interface ProgressReport {
  readonly kind: 'progress';
  readonly index: number;
  readonly phase: Phase;
  /** Devices connected now. */
  readonly online: number;
  readonly counters: Counters;
  /** Histograms of this interval only, encoded. */
  readonly ackHistogram: string;
  readonly deliverHistogram: string;
  readonly connectHistogram: string;
  readonly rssBytes: number;
}

export interface FinalReport {
  readonly kind: 'final';
  readonly index: number;
  readonly counters: Counters;
  readonly failures: Record<string, number>;
  readonly check: CheckResult;
  readonly unackedAtEnd: number;
  readonly devices: number;
  readonly rssBytes: number;
}

export type Phase = 'ramp' | 'messaging' | 'drain' | 'done';

/** A worker has brought up all its devices and waits for `go`, so that every worker's devices are online together. */
export interface RampedReport {
  readonly kind: 'ramped';
  readonly index: number;
}

export type WorkerMessage = ProgressReport | RampedReport | FinalReport;

/** What the coordinator sends: the assignment, then `go` once every worker has ramped. */
export type CoordinatorMessage = WorkerAssignment | { readonly kind: 'go' };

export function emptyCounters(): Counters {
  return { connected: 0, connectFailures: 0, connectRetries: 0, disconnects: 0, reconnects: 0, sent: 0, acked: 0, delivered: 0, roomOrdinary: 0, roomDropped: 0, roomSlowDevices: 0, roomStalls: 0, roomRemoved: 0, roomRejoins: 0 };
}
