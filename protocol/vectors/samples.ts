/**
 * Sample bodies for the test vectors: one per opcode that has a body, plus a large page that
 * crosses the compression threshold. `npm run vectors` turns them into the JSON files beside
 * this one; the test suite then checks the JSON against the codec in both directions.
 */
import { EntryType, GroupRole, KickReason, Platform, RoomLeftReason, type BodyName, type BodyOf, type EntryRecord, type MessageRecord, type RoomMessageRecord } from '../bodies.ts';
import { ErrorCode } from '../errors.ts';

/** An inbox epoch as the server makes them: 8 random bytes in hex. */
const EPOCH = '5f3a9c0e7b214d68';

const T0 = 1_764_460_800_000; // 2025-11-30T00:00:00Z in ms: above 2^32, so it travels as uint64.

const message: MessageRecord = {
  messageId: 'm1',
  conversationId: 'p:alice:bob',
  seq: 1,
  from: 'alice',
  to: 'bob',
  kind: 1,
  content: 'hi bob',
  sentAt: T0,
  clientMsgId: 'c1',
};

const groupMessage: MessageRecord = { messageId: 'm9', conversationId: 'g:g1', seq: 4, from: 'alice', to: 'g1', kind: 1, content: 'hi all', sentAt: T0, clientMsgId: 'c9' };

function entry(version: number): EntryRecord {
  return {
    version,
    type: EntryType.message,
    conversationId: 'p:alice:bob',
    seq: version,
    message: { ...message, messageId: `m${version}`, seq: version, clientMsgId: `c${version}`, content: `message number ${version}` },
  };
}

function roomMessage(messageId: string, content: string, seq: number): RoomMessageRecord {
  return { messageId, from: 'alice', kind: seq > 0 ? 7 : 1, content, sentAt: T0, seq };
}

export type Sample = { [N in BodyName]: { name: string; opcode: N; requestId: number; body: BodyOf<N> } }[BodyName];

export const samples: Sample[] = [
  { name: 'hello', opcode: 'hello', requestId: 1, body: { version: 1, client: 'ios/1.0' } },
  {
    name: 'server hello',
    opcode: 'serverHello',
    requestId: 1,
    body: {
      serverTime: T0,
      heartbeatMs: 30000,
      idleTimeoutMs: 75000,
      loginDeadlineMs: 10000,
      maxFrameSize: 1048576,
      maxRawBodySize: 8388608,
      compressThreshold: 1024,
      pushWindow: 64,
      server: 'tern/0.1',
      maxRequestSize: 262144,
    },
  },
  { name: 'register', opcode: 'register', requestId: 2, body: { userId: 'alice', password: 'correct horse', deviceId: 'phone-1', platform: Platform.ios } },
  { name: 'login with password', opcode: 'login', requestId: 2, body: { userId: 'alice', deviceId: 'phone-1', platform: Platform.ios, password: 'correct horse' } },
  { name: 'login with token', opcode: 'login', requestId: 2, body: { userId: 'alice', deviceId: 'phone-1', platform: Platform.ios, token: 'tk_abc' } },
  {
    name: 'session',
    opcode: 'session',
    requestId: 2,
    body: { userId: 'alice', deviceId: 'phone-1', token: 'tk_abc', tokenExpiresAt: T0 + 2_592_000_000, version: 7, ackedVersion: 5, epoch: EPOCH },
  },
  { name: 'logout', opcode: 'logout', requestId: 3, body: {} },
  { name: 'revoke current token', opcode: 'revokeToken', requestId: 3, body: {} },
  { name: 'ping', opcode: 'ping', requestId: 4, body: {} },
  { name: 'pong', opcode: 'pong', requestId: 4, body: { serverTime: T0 } },
  { name: 'send', opcode: 'send', requestId: 5, body: { clientMsgId: 'c1', to: 'bob', kind: 1, content: 'hi bob' } },
  { name: 'send ack', opcode: 'sendAck', requestId: 5, body: { messageId: 'm1', conversationId: 'p:alice:bob', seq: 1, serverTime: T0, version: 8, epoch: EPOCH } },
  { name: 'push of a message', opcode: 'push', requestId: 1, body: { ...entry(1), epoch: EPOCH } },
  { name: 'push of a read mark', opcode: 'push', requestId: 2, body: { version: 9, type: EntryType.readMark, conversationId: 'p:alice:bob', seq: 1, actor: 'bob', epoch: EPOCH } },
  { name: 'push ack', opcode: 'pushAck', requestId: 0, body: { upTo: 2 } },
  { name: 'sync', opcode: 'sync', requestId: 6, body: { sinceVersion: 0, limit: 200 } },
  { name: 'sync in an epoch', opcode: 'sync', requestId: 6, body: { sinceVersion: 1, limit: 200, epoch: EPOCH } },
  { name: 'sync page, small', opcode: 'syncPage', requestId: 6, body: { entries: [entry(1)], hasMore: false, lastVersion: 1, latestVersion: 1, epoch: EPOCH } },
  {
    name: 'sync page telling of a new epoch',
    opcode: 'syncPage',
    requestId: 6,
    body: { entries: [], hasMore: false, lastVersion: 0, latestVersion: 3, epoch: '0d1e2f3a4b5c6d7e', reset: true },
  },
  {
    name: 'sync page, LZ4-compressed',
    opcode: 'syncPage',
    requestId: 6,
    body: { entries: Array.from({ length: 20 }, (_, i) => entry(i + 1)), hasMore: true, lastVersion: 20, latestVersion: 45, epoch: EPOCH },
  },
  { name: 'history', opcode: 'history', requestId: 7, body: { conversationId: 'p:alice:bob', beforeSeq: 21, limit: 20 } },
  { name: 'history page', opcode: 'historyPage', requestId: 7, body: { conversationId: 'p:alice:bob', messages: [message], hasMore: false } },
  { name: 'conversations', opcode: 'conversations', requestId: 8, body: { limit: 50 } },
  {
    name: 'conversation list',
    opcode: 'conversationList',
    requestId: 8,
    body: { items: [{ conversationId: 'p:alice:bob', peer: 'bob', unread: 2, readSeq: 1, updatedAt: T0, lastMessage: message }], totalUnread: 2 },
  },
  { name: 'mark read', opcode: 'markRead', requestId: 9, body: { conversationId: 'p:alice:bob', seq: 3 } },
  { name: 'recall', opcode: 'recall', requestId: 10, body: { conversationId: 'p:alice:bob', seq: 3 } },
  { name: 'delete for me', opcode: 'deleteForMe', requestId: 11, body: { conversationId: 'p:alice:bob', seq: 3 } },
  { name: 'group create', opcode: 'groupCreate', requestId: 20, body: { name: 'hiking', members: ['bob', 'carol'], open: false } },
  { name: 'group invite', opcode: 'groupInvite', requestId: 21, body: { groupId: 'g1', members: ['dave'] } },
  { name: 'group leave', opcode: 'groupLeave', requestId: 22, body: { groupId: 'g1' } },
  { name: 'group members', opcode: 'groupMembers', requestId: 23, body: { groupId: 'g1', after: 'bob', limit: 50 } },
  { name: 'group get', opcode: 'groupGet', requestId: 24, body: { groupId: 'g1' } },
  { name: 'group join', opcode: 'groupJoin', requestId: 25, body: { groupId: 'g1' } },
  { name: 'group remove', opcode: 'groupRemove', requestId: 26, body: { groupId: 'g1', userId: 'dave' } },
  { name: 'group set role', opcode: 'groupSetRole', requestId: 27, body: { groupId: 'g1', userId: 'bob', role: GroupRole.admin } },
  { name: 'group mute', opcode: 'groupMute', requestId: 28, body: { groupId: 'g1', userId: 'carol', mutedUntil: T0 + 3_600_000 } },
  { name: 'group update', opcode: 'groupUpdate', requestId: 29, body: { groupId: 'g1', notice: 'meet at 8', mutedAll: false } },
  { name: 'group dissolve', opcode: 'groupDissolve', requestId: 30, body: { groupId: 'g1' } },
  { name: 'group send', opcode: 'groupSend', requestId: 31, body: { groupId: 'g1', clientMsgId: 'c9', kind: 1, content: 'hi all' } },
  { name: 'group sync', opcode: 'groupSync', requestId: 32, body: { cursors: [{ groupId: 'g1', afterSeq: 3 }, { groupId: 'g2', afterSeq: 0 }], limit: 200 } },
  {
    name: 'group info',
    opcode: 'groupInfo',
    requestId: 24,
    body: { groupId: 'g1', name: 'hiking', notice: '', owner: 'alice', memberCount: 3, lastSeq: 4, open: false, mutedAll: false, noMedia: false, historyForNewMembers: false, createdAt: T0, role: GroupRole.owner, visibleFromSeq: 1 },
  },
  { name: 'group member page', opcode: 'groupMemberPage', requestId: 23, body: { groupId: 'g1', members: [{ userId: 'carol', role: GroupRole.member, joinedAt: T0, mutedUntil: 0 }], hasMore: false } },
  { name: 'group sync page', opcode: 'groupSyncPage', requestId: 32, body: { messages: [groupMessage], hasMore: false } },
  { name: 'group receipts', opcode: 'groupReceipts', requestId: 33, body: { groupId: 'g1', seqs: [3, 4] } },
  { name: 'group receipt counts', opcode: 'groupReceiptCounts', requestId: 33, body: { groupId: 'g1', counts: [2, 1] } },
  { name: 'push of a group message', opcode: 'push', requestId: 3, body: { version: 0, type: EntryType.message, conversationId: 'g:g1', seq: 4, message: groupMessage } },
  { name: 'ok', opcode: 'ok', requestId: 9, body: {} },
  { name: 'error', opcode: 'error', requestId: 2, body: { code: ErrorCode.badCredentials, message: 'unknown user or wrong password', retry: false } },
  { name: 'kick', opcode: 'kick', requestId: 0, body: { reason: KickReason.replacedBySamePlatform, message: 'logged in on another ios device' } },
  { name: 'go away', opcode: 'goAway', requestId: 0, body: { reconnectAfterMs: 2500, reason: 'draining' } },
  { name: 'room join', opcode: 'roomJoin', requestId: 12, body: { roomId: 'live-1' } },
  { name: 'room joined', opcode: 'roomJoined', requestId: 12, body: { roomId: 'live-1', reliableSeq: 41, oldestSeq: 1, online: 10000 } },
  { name: 'room leave', opcode: 'roomLeave', requestId: 13, body: { roomId: 'live-1' } },
  { name: 'room send, ordinary', opcode: 'roomSend', requestId: 14, body: { roomId: 'live-1', clientMsgId: 'r1', kind: 1, content: 'hello room', reliable: false } },
  { name: 'room send, reliable (a gift)', opcode: 'roomSend', requestId: 15, body: { roomId: 'live-1', clientMsgId: 'g1', kind: 7, content: 'rose', reliable: true } },
  { name: 'room send ack', opcode: 'roomSendAck', requestId: 15, body: { roomId: 'live-1', messageId: 'm42', seq: 42, serverTime: T0 } },
  { name: 'room push, batch of two', opcode: 'roomPush', requestId: 0, body: { roomId: 'live-1', reliableSeq: 42, online: 10000, messages: [roomMessage('m41', 'hello room', 0), roomMessage('m42', 'rose', 42)] } },
  { name: 'room push after 3 dropped messages', opcode: 'roomPush', requestId: 3, body: { roomId: 'live-1', reliableSeq: 42, online: 9999, messages: [roomMessage('m43', 'hi', 0)] } },
  { name: 'room pull', opcode: 'roomPull', requestId: 16, body: { roomId: 'live-1', afterSeq: 40, limit: 100 } },
  { name: 'room page', opcode: 'roomPage', requestId: 16, body: { roomId: 'live-1', messages: [roomMessage('m42', 'rose', 42)], hasMore: false, latestSeq: 42, oldestSeq: 1 } },
  { name: 'room left: slow viewer', opcode: 'roomLeft', requestId: 0, body: { roomId: 'live-1', reason: RoomLeftReason.slowViewer } },
  { name: 'go away with alternatives', opcode: 'goAway', requestId: 0, body: { reconnectAfterMs: 2500, reason: 'draining', alternatives: [{ host: 'gw2.example', port: 7000, tlsPort: 7443 }, { host: 'gw3.example', port: 7000 }] } },
];

export interface RawFrame {
  readonly length?: number;
  readonly version?: number;
  readonly flags?: number;
  readonly opcode: number;
  readonly requestId: number;
  readonly rawLength?: number;
  /** Body bytes as hex. */
  readonly body: string;
}

/** Malformed headers and the error code the decoder must report; the connection cannot survive these. */
export const malformed: { name: string; frame: RawFrame; error: number }[] = [
  { name: 'length below the header size', frame: { length: 8, opcode: 0x10, requestId: 1, body: '90' }, error: ErrorCode.badLength },
  { name: 'length above the maximum frame size (2 MiB announced)', frame: { length: 2 * 1024 * 1024, opcode: 0x10, requestId: 1, body: '90' }, error: ErrorCode.frameTooLarge },
  { name: 'unsupported protocol version 2', frame: { version: 2, opcode: 0x10, requestId: 1, body: '90' }, error: ErrorCode.badVersion },
  { name: 'unknown flag bit 0x80', frame: { flags: 0x80, opcode: 0x10, requestId: 1, body: '90' }, error: ErrorCode.badFlags },
  { name: 'raw length set without the LZ4 flag', frame: { rawLength: 1, opcode: 0x10, requestId: 1, body: '90' }, error: ErrorCode.badFlags },
  { name: 'raw length above the maximum raw body size', frame: { flags: 1, rawLength: 16 * 1024 * 1024, opcode: 0x10, requestId: 1, body: '90' }, error: ErrorCode.badCompression },
];

/** Frames that parse but whose body must be rejected with an error frame (fatal only for 1005, see errors.ts). */
export const badBodies: { name: string; frame: RawFrame; error: number }[] = [
  { name: 'LZ4 block that does not decode to raw length', frame: { flags: 1, rawLength: 10, opcode: 0x20, requestId: 5, body: 'ff0102ff' }, error: ErrorCode.badCompression },
  { name: 'body that is not msgpack (0xc1 is never used)', frame: { opcode: 0x20, requestId: 5, body: 'c1' }, error: ErrorCode.badBody },
  { name: 'send whose "to" field is an int', frame: { opcode: 0x20, requestId: 5, body: '94a2633101' + '01a26162' }, error: ErrorCode.badBody },
  { name: 'send with too few fields', frame: { opcode: 0x20, requestId: 5, body: '92a26331a3626f62' }, error: ErrorCode.badBody },
  { name: 'send whose body is a map, not an array', frame: { opcode: 0x20, requestId: 5, body: '80' }, error: ErrorCode.badBody },
  { name: 'send ack whose seq is negative', frame: { opcode: 0x21, requestId: 5, body: '95a26d31a178ff0000' }, error: ErrorCode.badBody },
];
