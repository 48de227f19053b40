/**
 * The dedup step of a send on a store shared by many nodes. A send first claims its client id
 * (set-if-absent), so a resend that reaches another node while the first attempt is in flight
 * finds the claim instead of storing the message again. A claim whose record is complete answers
 * the resend; one still incomplete and recent belongs to an attempt in flight elsewhere (the
 * resend is refused with a retryable 5001 and comes back later); an old incomplete one was left by
 * a crash, and the resend completes it with the same ids.
 */
import { ErrorCode, ProtocolError } from '../protocol/errors.ts';
import type { DedupRecord, DedupStore } from './ports.ts';

/** How long an incomplete claim is taken to be an attempt still in flight on some node. */
export const CLAIM_IN_FLIGHT_MS = 10_000;

export type Claimed =
  /** Stored by this call: write the message with these ids. */
  | { readonly kind: 'fresh'; readonly record: DedupRecord }
  /** Complete: the message is stored, answer with it. */
  | { readonly kind: 'done'; readonly record: DedupRecord }
  /** Left incomplete by a crash: write the message again with these ids. */
  | { readonly kind: 'resume'; readonly record: DedupRecord };

export async function claimSend(dedup: DedupStore, userId: string, key: string, now: number, newRecord: () => Promise<DedupRecord>): Promise<Claimed> {
  let known = await dedup.get(userId, key);
  if (!known) {
    const record = await newRecord();
    known = await dedup.claim(userId, key, record);
    if (!known) return { kind: 'fresh', record };
  }
  if (known.version !== undefined) return { kind: 'done', record: known };
  if (now - known.sentAt < CLAIM_IN_FLIGHT_MS) throw new ProtocolError(ErrorCode.internal, 'this message is being stored by another attempt; resend it later');
  return { kind: 'resume', record: known };
}
