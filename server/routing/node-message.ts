/**
 * What nodes send each other on their pub/sub channels: a push of one entry to some of the
 * receiving node's connections, a kick of one connection, or a revocation of its token with
 * the kick. One kind byte, then the body as
 * msgpack in the protocol's own schemas (the entry is the push body of SPEC §11, the kick the
 * kick body), so a payload is validated like a client frame: its size first, then a bounded scan,
 * then the fields. Whatever fails is dropped and counted by the receiver, never delivered.
 */
import { Bodies, Entry, type BodyOf } from '../../protocol/bodies.ts';
import { list, record, str } from '../../protocol/schema.ts';
import { decodeBody, encodeShared } from '../../codec/body-codec.ts';
import type { ConnectionId } from '../seam.ts';

/** Connection ids are the gateway's `<prefix>.<counter>`; far shorter than this. */
const MAX_CONNECTION_ID_LENGTH = 128;
/** One user's devices on one node: one per platform and per device id, far fewer than this. */
export const MAX_NODE_PUSH_CONNECTIONS = 256;
/** An entry's content is at most 64 KiB of characters (≤ 256 KiB of UTF-8), plus ids. */
export const MAX_NODE_MESSAGE_BYTES = 512 * 1024;

const connectionId = str(MAX_CONNECTION_ID_LENGTH, 1);
const NodePush = record({ connectionIds: list(connectionId, MAX_NODE_PUSH_CONNECTIONS), entry: Entry });
const NodeKick = record({ connectionId, kick: Bodies.kick });

const Kind = { push: 1, kick: 2, revokeAndKick: 3 } as const;

export type NodeMessage =
  | { readonly kind: 'push'; readonly connectionIds: readonly ConnectionId[]; readonly entry: BodyOf<'push'> }
  | { readonly kind: 'kick' | 'revokeAndKick'; readonly connectionId: ConnectionId; readonly body: BodyOf<'kick'> };

export function encodeNodeMessage(message: NodeMessage): Buffer {
  const body =
    message.kind === 'push'
      ? encodeShared(NodePush.toWire({ connectionIds: [...message.connectionIds], entry: message.entry }))
      : encodeShared(NodeKick.toWire({ connectionId: message.connectionId, kick: message.body }));
  const out = Buffer.allocUnsafe(1 + body.length);
  out[0] = Kind[message.kind];
  out.set(body, 1);
  return out;
}

export class MalformedNodeMessage extends Error {
  override readonly name = 'MalformedNodeMessage';
}

/** The message, or a MalformedNodeMessage thrown for anything else (too large, unknown kind, a bad field). */
export function decodeNodeMessage(raw: Buffer): NodeMessage {
  if (raw.length > MAX_NODE_MESSAGE_BYTES) throw new MalformedNodeMessage(`node message of ${raw.length} bytes, over ${MAX_NODE_MESSAGE_BYTES}`);
  const body = raw.subarray(1);
  try {
    if (raw[0] === Kind.push) {
      const push = decodeBody(NodePush, body);
      return { kind: 'push', connectionIds: push.connectionIds, entry: push.entry };
    }
    if (raw[0] === Kind.kick || raw[0] === Kind.revokeAndKick) {
      const kick = decodeBody(NodeKick, body);
      return { kind: raw[0] === Kind.kick ? 'kick' : 'revokeAndKick', connectionId: kick.connectionId, body: kick.kick };
    }
  } catch (error) {
    throw new MalformedNodeMessage(`node message: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  throw new MalformedNodeMessage(`node message of unknown kind ${raw[0] ?? '(empty)'}`);
}
