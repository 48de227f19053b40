/**
 * What each client opcode means to the gateway: the schema of its body, the state it needs, and
 * for session requests the reply opcode. Pure data; the connection dispatches on it.
 */
import { Bodies } from '../../protocol/bodies.ts';
import { Opcode, type OpcodeName } from '../../protocol/opcodes.ts';
import type { AnyRecordType } from '../../protocol/schema.ts';
import type { SessionRequestName } from '../seam.ts';

export interface SessionRoute {
  readonly name: SessionRequestName;
  readonly body: AnyRecordType;
  readonly reply: OpcodeName;
}

const sessionRoutes: SessionRoute[] = [
  { name: 'send', body: Bodies.send, reply: 'sendAck' },
  { name: 'sync', body: Bodies.sync, reply: 'syncPage' },
  { name: 'history', body: Bodies.history, reply: 'historyPage' },
  { name: 'conversations', body: Bodies.conversations, reply: 'conversationList' },
  { name: 'markRead', body: Bodies.markRead, reply: 'ok' },
  { name: 'recall', body: Bodies.recall, reply: 'ok' },
  { name: 'deleteForMe', body: Bodies.deleteForMe, reply: 'ok' },
  { name: 'logout', body: Bodies.logout, reply: 'ok' },
  { name: 'revokeToken', body: Bodies.revokeToken, reply: 'ok' },
  { name: 'groupCreate', body: Bodies.groupCreate, reply: 'groupInfo' },
  { name: 'groupInvite', body: Bodies.groupInvite, reply: 'ok' },
  { name: 'groupLeave', body: Bodies.groupLeave, reply: 'ok' },
  { name: 'groupMembers', body: Bodies.groupMembers, reply: 'groupMemberPage' },
  { name: 'groupGet', body: Bodies.groupGet, reply: 'groupInfo' },
  { name: 'groupJoin', body: Bodies.groupJoin, reply: 'groupInfo' },
  { name: 'groupRemove', body: Bodies.groupRemove, reply: 'ok' },
  { name: 'groupSetRole', body: Bodies.groupSetRole, reply: 'ok' },
  { name: 'groupMute', body: Bodies.groupMute, reply: 'ok' },
  { name: 'groupUpdate', body: Bodies.groupUpdate, reply: 'ok' },
  { name: 'groupDissolve', body: Bodies.groupDissolve, reply: 'ok' },
  { name: 'groupSend', body: Bodies.groupSend, reply: 'sendAck' },
  { name: 'groupSync', body: Bodies.groupSync, reply: 'groupSyncPage' },
  { name: 'groupReceipts', body: Bodies.groupReceipts, reply: 'groupReceiptCounts' },
];

export const SESSION_ROUTES = new Map<number, SessionRoute>(sessionRoutes.map((route) => [Opcode[route.name], route]));

/** Opcodes v1 reserves without serving them: answered with `unsupported`. */
export const RESERVED_OPCODES = new Set<number>([
  Opcode.roomJoin,
  Opcode.roomLeave,
  Opcode.roomSend,
  Opcode.roomPush,
]);
