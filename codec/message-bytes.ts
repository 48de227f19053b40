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
/** Entry fields before `message`; with no `actor` after it, `message` ends the array. */
const LEADING_FIELDS = Entry.names.indexOf('message');

/**
 * The msgpack bytes of an entry that carries a message and no actor, spliced from its leading
 * fields and the message's shared bytes: the same bytes as encoding the whole entry.
 */
export function entryBytes(entry: { version: number; type: number; conversationId: string; seq: number; message: MessageRecord; actor?: undefined }): Buffer {
  const { message, ...leading } = entry;
  // The message first: the head is a view into the shared encoder, valid until its next use.
  const body = messageBytes(message);
  const head = encodeShared(Entry.toWire(leading));
  if (head[0] !== FIXARRAY + LEADING_FIELDS) throw new Error('entry head is not a short array of its leading fields');
  const out = Buffer.allocUnsafe(head.length + body.length);
  out.set(head, 0);
  out[0] = FIXARRAY + LEADING_FIELDS + 1;
  out.set(body, head.length);
  return out;
}
