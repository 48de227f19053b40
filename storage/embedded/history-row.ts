/**
 * A history row on LMDB: 8 bytes of the time it was stored (for retention), then the message as
 * the protocol encodes it (a positional msgpack array, SPEC §5.2), the same bytes its push body
 * carries. Encoding the row with the
 * wire schema costs a fraction of a generic object encoding, and the bytes decode with the
 * same schema that checks a client's messages.
 */
import { decodeBody, messageBytes } from '../../codec/index.ts';
import { Message, type MessageRecord } from '../../protocol/bodies.ts';

const STAMP_BYTES = 8;

export function encodeHistoryRow(message: MessageRecord, storedAt: number): Buffer {
  const body = messageBytes(message);
  const row = Buffer.allocUnsafe(STAMP_BYTES + body.length);
  row.writeDoubleBE(storedAt, 0);
  row.set(body, STAMP_BYTES);
  return row;
}

export function historyRowStoredAt(row: Uint8Array): number {
  return Buffer.from(row.buffer, row.byteOffset, row.length).readDoubleBE(0);
}

export function decodeHistoryRow(row: Uint8Array): MessageRecord {
  return decodeBody(Message, row.subarray(STAMP_BYTES));
}
