/**
 * The body schema of every opcode that has a body in protocol v1. Each record travels as a
 * msgpack array in field order (see schema.ts). SPEC.md mirrors these tables.
 */
import { Opcode, type OpcodeValue } from './opcodes.ts';
import { bool, empty, list, optional, record, str, uint, type AnyRecordType, type RecordOf, type RecordType } from './schema.ts';

export const MAX_ID_LENGTH = 64;
export const MAX_CONTENT_LENGTH = 65536;
export const MAX_PAGE_ENTRIES = 1000;

const id = str(MAX_ID_LENGTH, 1);
const conversationId = str(2 * MAX_ID_LENGTH + 4, 1);

/** Client platforms; one live session per user and platform (a new login kicks the old one). */
export const Platform = { ios: 1, android: 2, desktop: 3, web: 4 } as const;

export const KickReason = { replacedBySameDevice: 1, replacedBySamePlatform: 2, tokenRevoked: 3, byAdmin: 4 } as const;

export const EntryType = { message: 1, readMark: 2, recall: 3 } as const;

export const Message = record({
  messageId: id,
  conversationId,
  seq: uint,
  from: id,
  to: id,
  kind: uint,
  content: str(MAX_CONTENT_LENGTH),
  sentAt: uint,
  clientMsgId: id,
  recalled: optional(bool),
});

export const Entry = record({
  version: uint,
  type: uint,
  conversationId,
  seq: uint,
  message: optional(Message),
  actor: optional(id),
});

export const Conversation = record({
  conversationId,
  peer: id,
  unread: uint,
  readSeq: uint,
  updatedAt: uint,
  lastMessage: optional(Message),
});

/** Another gateway a client may connect to (goAway.alternatives); `tlsPort` when it serves TLS. */
export const GatewayEndpoint = record({ host: str(255, 1), port: uint, tlsPort: optional(uint) });

/** Alternatives in one goAway. */
export const MAX_GOAWAY_ALTERNATIVES = 8;

export const Bodies = {
  hello: record({ version: uint, client: str(64) }),
  serverHello: record({
    serverTime: uint,
    heartbeatMs: uint,
    idleTimeoutMs: uint,
    loginDeadlineMs: uint,
    maxFrameSize: uint,
    maxRawBodySize: uint,
    compressThreshold: uint,
    pushWindow: uint,
    server: str(64),
    maxRequestSize: optional(uint),
  }),
  register: record({ userId: id, password: str(256, 1), deviceId: id, platform: uint }),
  login: record({ userId: id, deviceId: id, platform: uint, password: optional(str(256)), token: optional(str(128)) }),
  session: record({ userId: id, deviceId: id, token: str(128), tokenExpiresAt: uint, version: uint, ackedVersion: uint }),
  logout: empty,
  revokeToken: record({ token: optional(str(128)) }),
  ping: empty,
  pong: record({ serverTime: uint }),
  send: record({ clientMsgId: id, to: id, kind: uint, content: str(MAX_CONTENT_LENGTH) }),
  sendAck: record({ messageId: id, conversationId, seq: uint, serverTime: uint, version: uint }),
  push: Entry,
  pushAck: record({ upTo: uint }),
  sync: record({ sinceVersion: uint, limit: optional(uint) }),
  syncPage: record({ entries: list(Entry, MAX_PAGE_ENTRIES), hasMore: bool, lastVersion: uint, latestVersion: uint }),
  history: record({ conversationId, beforeSeq: optional(uint), limit: optional(uint) }),
  historyPage: record({ conversationId, messages: list(Message, MAX_PAGE_ENTRIES), hasMore: bool }),
  conversations: record({ limit: optional(uint) }),
  conversationList: record({ items: list(Conversation, MAX_PAGE_ENTRIES), totalUnread: uint }),
  markRead: record({ conversationId, seq: uint }),
  recall: record({ conversationId, seq: uint }),
  deleteForMe: record({ conversationId, seq: uint }),
  ok: empty,
  error: record({ code: uint, message: str(1024), retry: bool }),
  kick: record({ reason: uint, message: str(256) }),
  goAway: record({ reconnectAfterMs: uint, reason: str(256), alternatives: optional(list(GatewayEndpoint, MAX_GOAWAY_ALTERNATIVES)) }),
} as const satisfies Partial<Record<keyof typeof Opcode, AnyRecordType>>;

export type BodyName = keyof typeof Bodies;
export type BodyOf<N extends BodyName> = (typeof Bodies)[N] extends RecordType<infer F> ? RecordOf<F> : never;
export type MessageRecord = RecordOf<typeof Message.fields>;
export type EntryRecord = RecordOf<typeof Entry.fields>;
export type ConversationRecord = RecordOf<typeof Conversation.fields>;

const bodyByOpcode = new Map<number, AnyRecordType>(
  (Object.keys(Bodies) as BodyName[]).map((name) => [Opcode[name], Bodies[name]]),
);

/** The schema for an opcode, or undefined for reserved opcodes whose bodies v1 does not define. */
export function bodySchema(opcode: OpcodeValue | number): AnyRecordType | undefined {
  return bodyByOpcode.get(opcode);
}
