/** Records for the conformance suite. */
import { EntryType, type MessageRecord } from '../../../protocol/bodies.ts';
import type { NewEntry } from '../../../storage/ports.ts';

/** A base time in the past with 13 digits, like a real ms timestamp, so encodings that mangle big numbers fail. */
export const T0 = 1_700_000_000_000;

export function message(conversationId: string, seq: number, fields: Partial<MessageRecord> = {}): MessageRecord {
  return {
    messageId: `m-${conversationId}-${seq}`,
    conversationId,
    seq,
    from: 'ann',
    to: 'ben',
    kind: 1,
    content: `message ${seq} ✓ ünïcode`,
    sentAt: T0 + seq,
    clientMsgId: `c-${seq}`,
    ...fields,
  };
}

export function messageEntry(conversationId: string, seq: number): NewEntry {
  return { type: EntryType.message, conversationId, seq, message: message(conversationId, seq) };
}

export function readMarkEntry(conversationId: string, seq: number, actor: string): NewEntry {
  return { type: EntryType.readMark, conversationId, seq, actor };
}

/** 0, 1, …, n - 1. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
