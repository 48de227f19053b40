/**
 * The msgpack bytes of a message record, encoded once per record object: the store's history
 * row and the push body that carries the message reuse them instead of serializing the content
 * again. A push body of a message entry is the entry's leading fields followed by these bytes.
 */
import { Entry, Message, type MessageRecord } from '../protocol/bodies.ts';
import { encodeShared } from './body-codec.ts';

const encoded = new WeakMap<MessageRecord, Buffer>();
let encodes = 0;

/** How many message records this process has serialized; tests count them per message. */
export function messageEncodes(): number {
  return encodes;
}

/** The record's wire bytes (SPEC §5.2), serialized on first use and shared after. */
export function messageBytes(message: MessageRecord): Buffer {
  let bytes = encoded.get(message);
  if (!bytes) {
    encodes++;
    bytes = Buffer.from(encodeShared(Message.toWire(message)));
    encoded.set(message, bytes);
  }
  return bytes;
}

const FIXARRAY = 0x90;
const FIXARRAY_MAX = 15;
const MESSAGE_INDEX = Entry.names.indexOf('message');

/** The elements of a short array without its one-byte header, from the shared encoder (valid until its next use). */
function elements(values: unknown[]): Uint8Array {
  const bytes = encodeShared(values);
  if (bytes[0] !== FIXARRAY + values.length) throw new Error('not a short array');
  return bytes.subarray(1);
}

type MessageEntry = Parameters<typeof Entry.toWire>[0] & { message: MessageRecord };

/**
 * The msgpack bytes of an entry that carries a message, spliced from the fields around it and
 * the message's shared bytes: the same bytes as encoding the whole entry.
 */
export function entryBytes(entry: MessageEntry): Buffer {
  // The message first: the other parts are views into the shared encoder, valid until its next use.
  const body = messageBytes(entry.message);
  const wire = Entry.toWire({ ...entry, message: undefined }) as unknown[];
  const length = Math.max(wire.length, MESSAGE_INDEX + 1);
  if (length > FIXARRAY_MAX) throw new Error('an entry has at most 15 fields');
  const before = Buffer.from(elements(wire.slice(0, MESSAGE_INDEX)));
  const after = elements(wire.slice(MESSAGE_INDEX + 1));
  const out = Buffer.allocUnsafe(1 + before.length + body.length + after.length);
  out[0] = FIXARRAY + length;
  out.set(before, 1);
  out.set(body, 1 + before.length);
  out.set(after, 1 + before.length + body.length);
  return out;
}
