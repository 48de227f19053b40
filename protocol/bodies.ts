/**
 * The body schema of every opcode that has a body in protocol v1. Each record travels as a
 * msgpack array in field order (see schema.ts). SPEC.md mirrors these tables.
 */
import { Opcode, type OpcodeValue } from './opcodes.ts';
import { bool, empty, list, optional, record, str, uint, type AnyRecordType, type RecordOf, type RecordType } from './schema.ts';

export const MAX_ID_LENGTH = 64;
export const MAX_CONTENT_LENGTH = 65536;
export const MAX_PAGE_ENTRIES = 1000;
/** An inbox epoch is an opaque id; the server's are 16 hex digits (SPEC §11.2). */
export const MAX_EPOCH_LENGTH = 32;

const id = str(MAX_ID_LENGTH, 1);
const conversationId = str(2 * MAX_ID_LENGTH + 4, 1);
const epoch = str(MAX_EPOCH_LENGTH, 1);

/** Client platforms; one live session per user and platform (a new login kicks the old one). */
export const Platform = { ios: 1, android: 2, desktop: 3, web: 4 } as const;

export const KickReason = { replacedBySameDevice: 1, replacedBySamePlatform: 2, tokenRevoked: 3, byAdmin: 4 } as const;

export const EntryType = { message: 1, readMark: 2, recall: 3 } as const;

/** Message kind 1 is text; the server stores other kinds unchanged (text-only rules refuse them). */
export const TEXT_KIND = 1;

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
  epoch: optional(epoch),
});

export const Conversation = record({
  conversationId,
  peer: id,
  unread: uint,
  readSeq: uint,
  updatedAt: uint,
  lastMessage: optional(Message),
});

/** Roles in a group; a lower number outranks a higher one (SPEC §18.3). */
export const GroupRole = { owner: 1, admin: 2, member: 3 } as const;

/**
 * Message kinds at or above this value are timeline events the server writes (member added,
 * role changed, …); clients may not send them (SPEC §18.5).
 */
export const GROUP_EVENT_KIND_BASE = 0xff00;
export const GroupEventKind = {
  created: 0xff01,
  membersAdded: 0xff02,
  memberLeft: 0xff03,
  memberRemoved: 0xff04,
  roleChanged: 0xff05,
  muteChanged: 0xff06,
  groupUpdated: 0xff07,
  dissolved: 0xff08,
} as const;

export const MAX_GROUP_NAME_LENGTH = 128;
export const MAX_GROUP_NOTICE_LENGTH = 1024;
/** Users named in one create or invite request. */
export const MAX_GROUP_INVITES = 100;
/** Seqs asked about in one groupReceipts request. */
export const MAX_RECEIPT_SEQS = 100;
/** Groups named in one groupSync request. */
export const MAX_GROUP_CURSORS = 200;

const groupId = id;

export const Group = record({
  groupId,
  name: str(MAX_GROUP_NAME_LENGTH),
  notice: str(MAX_GROUP_NOTICE_LENGTH),
  owner: id,
  memberCount: uint,
  lastSeq: uint,
  open: bool,
  mutedAll: bool,
  noMedia: bool,
  historyForNewMembers: bool,
  createdAt: uint,
  role: uint,
  visibleFromSeq: uint,
});

export const GroupMember = record({
  userId: id,
  role: uint,
  joinedAt: uint,
  mutedUntil: uint,
});

export const GroupCursor = record({ groupId, afterSeq: uint });

/** Room messages are short (comments, gifts): a bound that keeps a batch of them small. */
export const MAX_ROOM_CONTENT_LENGTH = 1024;
/** The most messages one roomPush may carry (the server's batch size is at most this). */
export const MAX_ROOM_BATCH = 256;

const roomId = id;

/** Why the server took a viewer out of a room (roomLeft.reason). */
export const RoomLeftReason = { slowViewer: 1 } as const;

/** One message of a live room; `seq` is its reliable sequence in the room, 0 for an ordinary message. */
export const RoomMessage = record({
  messageId: id,
  from: id,
  kind: uint,
  content: str(MAX_ROOM_CONTENT_LENGTH),
  sentAt: uint,
  seq: uint,
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
  session: record({ userId: id, deviceId: id, token: str(128), tokenExpiresAt: uint, version: uint, ackedVersion: uint, epoch: optional(epoch) }),
  logout: empty,
  revokeToken: record({ token: optional(str(128)) }),
  ping: empty,
  pong: record({ serverTime: uint }),
  send: record({ clientMsgId: id, to: id, kind: uint, content: str(MAX_CONTENT_LENGTH) }),
  sendAck: record({ messageId: id, conversationId, seq: uint, serverTime: uint, version: uint, epoch: optional(epoch) }),
  push: Entry,
  pushAck: record({ upTo: uint }),
  sync: record({ sinceVersion: uint, limit: optional(uint), epoch: optional(epoch) }),
  syncPage: record({ entries: list(Entry, MAX_PAGE_ENTRIES), hasMore: bool, lastVersion: uint, latestVersion: uint, epoch: optional(epoch), reset: optional(bool) }),
  history: record({ conversationId, beforeSeq: optional(uint), limit: optional(uint) }),
  historyPage: record({ conversationId, messages: list(Message, MAX_PAGE_ENTRIES), hasMore: bool }),
  conversations: record({ limit: optional(uint) }),
  conversationList: record({ items: list(Conversation, MAX_PAGE_ENTRIES), totalUnread: uint }),
  markRead: record({ conversationId, seq: uint }),
  recall: record({ conversationId, seq: uint }),
  deleteForMe: record({ conversationId, seq: uint }),
  groupCreate: record({ name: str(MAX_GROUP_NAME_LENGTH, 1), members: list(id, MAX_GROUP_INVITES), open: optional(bool), historyForNewMembers: optional(bool) }),
  groupInvite: record({ groupId, members: list(id, MAX_GROUP_INVITES) }),
  groupLeave: record({ groupId }),
  groupMembers: record({ groupId, after: optional(id), limit: optional(uint) }),
  groupGet: record({ groupId }),
  groupJoin: record({ groupId }),
  groupRemove: record({ groupId, userId: id }),
  groupSetRole: record({ groupId, userId: id, role: uint }),
  groupMute: record({ groupId, userId: id, mutedUntil: uint }),
  groupUpdate: record({ groupId, name: optional(str(MAX_GROUP_NAME_LENGTH, 1)), notice: optional(str(MAX_GROUP_NOTICE_LENGTH)), open: optional(bool), mutedAll: optional(bool), noMedia: optional(bool) }),
  groupDissolve: record({ groupId }),
  groupSend: record({ groupId, clientMsgId: id, kind: uint, content: str(MAX_CONTENT_LENGTH) }),
  groupSync: record({ cursors: list(GroupCursor, MAX_GROUP_CURSORS), limit: optional(uint) }),
  groupInfo: Group,
  groupMemberPage: record({ groupId, members: list(GroupMember, MAX_PAGE_ENTRIES), hasMore: bool }),
  groupSyncPage: record({ messages: list(Message, MAX_PAGE_ENTRIES), hasMore: bool }),
  groupReceipts: record({ groupId, seqs: list(uint, MAX_RECEIPT_SEQS) }),
  groupReceiptCounts: record({ groupId, counts: list(uint, MAX_RECEIPT_SEQS) }),
  ok: empty,
  error: record({ code: uint, message: str(1024), retry: bool }),
  kick: record({ reason: uint, message: str(256) }),
  goAway: record({ reconnectAfterMs: uint, reason: str(256), alternatives: optional(list(GatewayEndpoint, MAX_GOAWAY_ALTERNATIVES)) }),
  roomJoin: record({ roomId }),
  roomLeave: record({ roomId }),
  roomSend: record({ roomId, clientMsgId: id, kind: uint, content: str(MAX_ROOM_CONTENT_LENGTH), reliable: bool }),
  roomPush: record({ roomId, reliableSeq: uint, online: uint, messages: list(RoomMessage, MAX_ROOM_BATCH) }),
  roomPull: record({ roomId, afterSeq: uint, limit: optional(uint) }),
  roomJoined: record({ roomId, reliableSeq: uint, oldestSeq: uint, online: uint }),
  roomSendAck: record({ roomId, messageId: id, seq: uint, serverTime: uint }),
  roomPage: record({ roomId, messages: list(RoomMessage, MAX_ROOM_BATCH), hasMore: bool, latestSeq: uint, oldestSeq: uint }),
  roomLeft: record({ roomId, reason: uint }),
} as const satisfies Partial<Record<keyof typeof Opcode, AnyRecordType>>;

export type BodyName = keyof typeof Bodies;
export type BodyOf<N extends BodyName> = (typeof Bodies)[N] extends RecordType<infer F> ? RecordOf<F> : never;
export type MessageRecord = RecordOf<typeof Message.fields>;
export type EntryRecord = RecordOf<typeof Entry.fields>;
export type ConversationRecord = RecordOf<typeof Conversation.fields>;
export type RoomMessageRecord = RecordOf<typeof RoomMessage.fields>;
export type GroupRecord = RecordOf<typeof Group.fields>;
export type GroupMemberRecord = RecordOf<typeof GroupMember.fields>;

const bodyByOpcode = new Map<number, AnyRecordType>(
  (Object.keys(Bodies) as BodyName[]).map((name) => [Opcode[name], Bodies[name]]),
);

/** The schema for an opcode, or undefined for reserved opcodes whose bodies v1 does not define. */
export function bodySchema(opcode: OpcodeValue | number): AnyRecordType | undefined {
  return bodyByOpcode.get(opcode);
}
