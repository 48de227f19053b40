/**
 * Persisted 1:1 messages per second on the embedded store, through Logic.request('send') with no
 * gateway attached: each send issues its writes and awaits `stores.durable()`, so it returns only
 * once its message is committed to disk. With many sends in flight LMDB puts the writes of all of
 * them in one commit (group commit); with one in flight every message pays a commit of its own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Platform } from '../../protocol/bodies.ts';
import type { SessionInfo } from '../../server/seam.ts';
import { DEVICE_ID } from './pull.ts';
import { openSeedStore } from './seed.ts';

export interface CommitOptions {
  readonly users: number;
  /** Messages to send; the run also stops at `deadlineMs`, whichever comes first. */
  readonly messages: number;
  readonly inFlight: number;
  readonly deadlineMs: number;
  readonly contentLength: number;
}

export interface CommitResult {
  readonly inFlight: number;
  readonly messages: number;
  readonly seconds: number;
  /** Send → durable ACK, ms. */
  readonly latencyMs: number[];
}

/** Runs on a fresh store in its own temp dir, so that every case starts from the same empty file. */
export async function persistMessages(options: CommitOptions): Promise<CommitResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tern-bench-commit-'));
  const { stores, logic } = openSeedStore(dir, 10_000);
  try {
    const sessions: SessionInfo[] = [];
    for (let i = 0; i < options.users; i++) {
      const userId = `user${i}`;
      await stores.accounts.create({ userId, salt: '00', passwordHash: 'none', createdAt: 0 });
      sessions.push({ connectionId: `bench.${i}`, userId, deviceId: DEVICE_ID, platform: Platform.android });
    }
    await stores.durable();
    const content = 'running late, see you at the gate in ten minutes 🙂'.padEnd(options.contentLength, '.');
    const latencyMs: number[] = [];
    const deadline = performance.now() + options.deadlineMs;
    let next = 0;
    const lane = async () => {
      while (next < options.messages && performance.now() < deadline) {
        const k = next++;
        // Sender and receiver walk the users at different strides, so conversations vary.
        const from = sessions[k % options.users] as SessionInfo;
        const to = sessions[(k * 7 + 1) % options.users] as SessionInfo;
        const receiver = to === from ? (sessions[(k + 1) % options.users] as SessionInfo) : to;
        const sent = performance.now();
        await logic.request(from, 'send', { clientMsgId: `c${k}`, to: receiver.userId, kind: 1, content });
        latencyMs.push(performance.now() - sent);
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: options.inFlight }, lane));
    return { inFlight: options.inFlight, messages: latencyMs.length, seconds: (performance.now() - started) / 1000, latencyMs };
  } finally {
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
