/**
 * The room log on LMDB: one row per reliable room message under [roomId, seq], the row being the
 * record of its seq (no counter write; after a restart the counter resumes from the last row).
 * Retention: the newest `maxEntries` per room and nothing older than `retentionMs`; old rows are
 * removed a few at a time on append, and reads never show rows past the window.
 */
import type { Database } from 'lmdb';
import type { RoomMessageRecord } from '../../protocol/bodies.ts';
import type { RoomLogPage, RoomLogState, RoomLogStore } from '../ports.ts';
import type { Counters, WriteTracker } from './counters.ts';
import type { PendingWrites } from './pending.ts';

type Key = (string | number)[];
type StoredRoomMessage = RoomMessageRecord & { readonly at: number };

export interface RoomLogLimits {
  readonly maxEntries: number;
  readonly retentionMs: number;
  readonly now: () => number;
}

/** Rows are pruned every PRUNE_EVERY appends of a room, at most PRUNE_BATCH at a time: more than arrive in between. */
const PRUNE_EVERY = 16;
const PRUNE_BATCH = 32;

export function roomCounterKey(roomId: string): string {
  return `room:${roomId}`;
}

export class EmbeddedRoomLog implements RoomLogStore {
  constructor(
    private readonly db: Database<StoredRoomMessage, Key>,
    private readonly counters: Counters,
    private readonly track: WriteTracker,
    private readonly pending: PendingWrites,
    private readonly limits: RoomLogLimits,
  ) {}

  append(roomId: string, message: Omit<RoomMessageRecord, 'seq'>): Promise<RoomMessageRecord> {
    const seq = this.counters.next(roomCounterKey(roomId), false);
    const stored: RoomMessageRecord = { ...message, seq };
    const now = this.limits.now();
    const write = this.db.put([roomId, seq], { ...stored, at: now });
    this.track(write, this.scope(roomId));
    if (seq % PRUNE_EVERY === 0) this.prune(roomId, seq, now);
    return write.then(() => stored);
  }

  async range(roomId: string, afterSeq: number, limit: number): Promise<RoomLogPage> {
    await this.pending.settled(this.scope(roomId));
    const state = this.stateNow(roomId);
    const messages: RoomMessageRecord[] = [];
    let hasMore = false;
    const start = Math.max(afterSeq + 1, state.oldestSeq);
    for (const { value } of this.db.getRange({ start: [roomId, start], end: [roomId, Number.MAX_SAFE_INTEGER], limit: limit + 1 })) {
      if (messages.length === limit) {
        hasMore = true;
        break;
      }
      const { at: _at, ...message } = value;
      messages.push(message);
    }
    return { ...state, messages, hasMore };
  }

  async state(roomId: string): Promise<RoomLogState> {
    await this.pending.settled(this.scope(roomId));
    return this.stateNow(roomId);
  }

  /** The last seq stored for a room, for the counter after a restart. */
  lastStoredSeq(roomId: string): number {
    for (const { key } of this.db.getRange({ start: [roomId, Number.MAX_SAFE_INTEGER], end: [roomId, 0], reverse: true, limit: 1 })) {
      return Number(key[1]);
    }
    return 0;
  }

  private stateNow(roomId: string): RoomLogState {
    const latestSeq = this.counters.current(roomCounterKey(roomId));
    const cutoff = this.limits.now() - this.limits.retentionMs;
    let oldestSeq = latestSeq + 1;
    // Rows are appended in time order, so the expired ones are a prefix; rows below the count
    // window are not looked at (they may wait for pruning).
    const first = Math.max(1, latestSeq - this.limits.maxEntries + 1);
    for (const { value } of this.db.getRange({ start: [roomId, first], end: [roomId, Number.MAX_SAFE_INTEGER], limit: this.limits.maxEntries })) {
      if (value.at >= cutoff) {
        oldestSeq = value.seq;
        break;
      }
    }
    return { latestSeq, oldestSeq: Math.max(oldestSeq, latestSeq - this.limits.maxEntries + 1, 1) };
  }

  /** Removes rows that fell out of the kept window, oldest first, never the newest (it carries the counter). */
  private prune(roomId: string, seq: number, now: number): void {
    const cutoff = now - this.limits.retentionMs;
    for (const { key, value } of this.db.getRange({ start: [roomId, 0], end: [roomId, seq], limit: PRUNE_BATCH })) {
      if (value.seq > seq - this.limits.maxEntries && value.at >= cutoff) break;
      this.track(this.db.remove(key), this.scope(roomId));
    }
  }

  private scope(roomId: string): string {
    return `r\0${roomId}`;
  }
}
