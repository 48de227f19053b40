/**
 * Every opcode of protocol v1. Requests carry a request id that the reply repeats; pushes
 * carry a per-connection SID in the same header field. The direction says who sends it.
 */
export const Opcode = {
  // Handshake and session
  hello: 0x0001,
  serverHello: 0x0002,
  register: 0x0003,
  login: 0x0004,
  session: 0x0005,
  logout: 0x0006,
  revokeToken: 0x0007,

  // Heartbeat
  ping: 0x0010,
  pong: 0x0011,

  // Messaging
  send: 0x0020,
  sendAck: 0x0021,
  push: 0x0022,
  pushAck: 0x0023,

  // Sync, history, conversations
  sync: 0x0030,
  syncPage: 0x0031,
  history: 0x0032,
  historyPage: 0x0033,
  conversations: 0x0034,
  conversationList: 0x0035,
  markRead: 0x0036,
  recall: 0x0037,
  deleteForMe: 0x0038,

  // Groups (SPEC §18)
  groupCreate: 0x0040,
  groupInvite: 0x0041,
  groupLeave: 0x0042,
  groupMembers: 0x0043,
  groupGet: 0x0044,
  groupJoin: 0x0045,
  groupRemove: 0x0046,
  groupSetRole: 0x0047,
  groupMute: 0x0048,
  groupUpdate: 0x0049,
  groupDissolve: 0x004a,
  groupSend: 0x004b,
  groupSync: 0x004c,
  groupInfo: 0x004d,
  groupMemberPage: 0x004e,
  groupSyncPage: 0x004f,
  groupReceipts: 0x0060,
  groupReceiptCounts: 0x0061,

  // Live rooms (reserved in v1; answered with UNSUPPORTED)
  roomJoin: 0x0050,
  roomLeave: 0x0051,
  roomSend: 0x0052,
  roomPush: 0x0053,

  // Generic replies and control
  ok: 0x00f0,
  error: 0x00f1,
  kick: 0x00f2,
  goAway: 0x00f3,
} as const;

export type OpcodeName = keyof typeof Opcode;
export type OpcodeValue = (typeof Opcode)[OpcodeName];

const namesByValue = new Map<number, OpcodeName>(
  (Object.keys(Opcode) as OpcodeName[]).map((name) => [Opcode[name], name]),
);

export function opcodeName(value: number): OpcodeName | undefined {
  return namesByValue.get(value);
}

export function isKnownOpcode(value: number): value is OpcodeValue {
  return namesByValue.has(value);
}
