/**
 * Realistic bodies for the codec benches: pushes of chat messages with ids, timestamps and text
 * of the sizes a messenger sees, and sync pages of such entries. Everything comes from a seeded
 * generator, so every run measures the same bytes.
 */
import { EntryType, type BodyOf, type EntryRecord } from '../../protocol/bodies.ts';
import type { Prng } from '../support/prng.ts';

/** 2025-11-30T00:00:00Z in ms: timestamps above 2^32 travel as uint64, as real ones do. */
const T0 = 1_764_460_800_000;

/** Mostly ASCII chat words with a few multi-byte ones, which take msgpack's slower UTF-8 path. */
const WORDS = [
  'ok', 'see', 'you', 'at', 'the', 'station', 'tomorrow', 'morning', 'thanks', 'sounds', 'good', 'café',
  'meeting', 'moved', 'to', '3pm', 'can', 'send', 'me', 'deck', 'lol', 'on', 'my', 'way', '👍', 'running',
  'late', 'sorry', 'naïve', 'question', 'where', 'is', 'it', 'haha', 'yes', 'no', 'maybe', 'later', 'call',
];

function pick<T>(prng: Prng, items: readonly T[]): T {
  return items[prng.below(items.length)] as T;
}

/** Chat text of about `length` characters. */
function chatText(prng: Prng, length: number): string {
  let text = pick(prng, WORDS);
  while (text.length < length) text += ` ${pick(prng, WORDS)}`;
  return text;
}

function userId(prng: Prng): string {
  return `u${10_000 + prng.below(90_000)}`;
}

/** A message entry as a push or a sync page carries it; `version` is the receiver's stream position. */
function messageEntry(prng: Prng, version: number, textLength: number): EntryRecord {
  const from = userId(prng);
  const to = userId(prng);
  const conversationId = from < to ? `p:${from}:${to}` : `p:${to}:${from}`;
  const seq = 1 + prng.below(5_000);
  return {
    version,
    type: EntryType.message,
    conversationId,
    seq,
    message: {
      messageId: `m${(1e12 + version * 7919).toString(36)}`,
      conversationId,
      seq,
      from,
      to,
      kind: 1,
      content: chatText(prng, textLength),
      sentAt: T0 + version * 1_337,
      clientMsgId: `c${prng.next().toString(36)}${prng.next().toString(36)}`,
    },
  };
}

/** `count` push bodies with text of 8–72 characters: frames of about 150 bytes. */
export function pushEntries(prng: Prng, count: number, firstVersion = 1_000_000): EntryRecord[] {
  return Array.from({ length: count }, (_, i) => messageEntry(prng, firstVersion + i, 8 + prng.below(65)));
}

/** A sync page of `count` entries with text of 8–120 characters: 200 entries make about 32 KiB. */
export function syncPage(prng: Prng, count: number, firstVersion = 1_000_000): BodyOf<'syncPage'> {
  const entries = Array.from({ length: count }, (_, i) => messageEntry(prng, firstVersion + i, 8 + prng.below(113)));
  return { entries, hasMore: true, lastVersion: firstVersion + count - 1, latestVersion: firstVersion + 10 * count };
}
