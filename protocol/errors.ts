/**
 * The error-code table of protocol v1. `retry` tells a client whether sending the same request
 * again (after a backoff) can succeed; `fatal` means the server closes the connection after
 * sending the error frame.
 */
export const ErrorCode = {
  // 1xxx: framing and protocol
  frameTooLarge: 1001,
  badVersion: 1002,
  badFlags: 1003,
  badLength: 1004,
  badCompression: 1005,
  badBody: 1006,
  unknownOpcode: 1007,
  unexpectedOpcode: 1008,
  rateLimited: 1009,
  notAuthenticated: 1010,
  unsupported: 1011,

  // 2xxx: authentication
  badCredentials: 2001,
  userExists: 2002,
  badToken: 2003,
  loginTimeout: 2004,
  badUserId: 2005,

  // 3xxx: messaging and sync
  notFound: 3001,
  forbidden: 3002,
  contentRejected: 3003,
  recallExpired: 3004,
  versionTooOld: 3005,
  badAck: 3006,
  quotaExceeded: 3007,

  // Groups
  notGroupMember: 4001,
  groupFull: 4002,
  tooManyGroups: 4003,
  groupMuted: 4004,
  groupRightMissing: 4005,
  ownerCannotLeave: 4006,
  groupNoMedia: 4007,
  groupClosed: 4008,
  receiptsNotServed: 4009,

  // 41xx: live rooms
  roomLimit: 4101,
  notInRoom: 4102,
  roomRateLimited: 4103,

  // 5xxx: server side
  internal: 5001,
  overloaded: 5002,
  shuttingDown: 5003,
} as const;

export type ErrorCodeName = keyof typeof ErrorCode;
export type ErrorCodeValue = (typeof ErrorCode)[ErrorCodeName];

export interface ErrorInfo {
  readonly name: ErrorCodeName;
  readonly retry: boolean;
  readonly fatal: boolean;
  readonly meaning: string;
}

export const ERROR_INFO: Readonly<Record<ErrorCodeValue, ErrorInfo>> = {
  1001: { name: 'frameTooLarge', retry: false, fatal: true, meaning: 'The header announces a frame longer than the maximum frame size.' },
  1002: { name: 'badVersion', retry: false, fatal: true, meaning: 'The header carries a protocol version the server does not speak.' },
  1003: { name: 'badFlags', retry: false, fatal: true, meaning: 'A flag bit the protocol does not define is set, or raw length is set without LZ4.' },
  1004: { name: 'badLength', retry: false, fatal: true, meaning: 'The length field is smaller than the header.' },
  1005: { name: 'badCompression', retry: false, fatal: true, meaning: 'The LZ4 block does not decode to exactly raw length bytes, or raw length exceeds the limit.' },
  1006: { name: 'badBody', retry: false, fatal: false, meaning: 'The body is not valid msgpack or does not match the opcode schema.' },
  1007: { name: 'unknownOpcode', retry: false, fatal: false, meaning: 'The opcode is not defined in this protocol version.' },
  1008: { name: 'unexpectedOpcode', retry: false, fatal: false, meaning: 'The opcode is not allowed in the connection state (e.g. send before login).' },
  1009: { name: 'rateLimited', retry: true, fatal: false, meaning: 'Too many frames per second on this connection; slow down.' },
  1010: { name: 'notAuthenticated', retry: false, fatal: false, meaning: 'The request needs a logged-in session.' },
  1011: { name: 'unsupported', retry: false, fatal: false, meaning: 'The opcode is reserved but not served by this server.' },
  2001: { name: 'badCredentials', retry: false, fatal: false, meaning: 'Unknown user or wrong password.' },
  2002: { name: 'userExists', retry: false, fatal: false, meaning: 'Registration for a user id that is taken.' },
  2003: { name: 'badToken', retry: false, fatal: false, meaning: 'The session token is unknown, expired or revoked.' },
  2004: { name: 'loginTimeout', retry: true, fatal: true, meaning: 'The connection did not log in within the login deadline.' },
  2005: { name: 'badUserId', retry: false, fatal: false, meaning: 'A user id is empty, too long or has characters outside [A-Za-z0-9_.-].' },
  3001: { name: 'notFound', retry: false, fatal: false, meaning: 'The peer user, conversation or message does not exist.' },
  3002: { name: 'forbidden', retry: false, fatal: false, meaning: 'The session may not do this (not a participant, not the sender, muted).' },
  3003: { name: 'contentRejected', retry: false, fatal: false, meaning: 'The content was rejected by the content filter.' },
  3004: { name: 'recallExpired', retry: false, fatal: false, meaning: 'The recall window of the message has passed.' },
  3005: { name: 'versionTooOld', retry: false, fatal: false, meaning: 'The sync version is older than the inbox keeps; reload conversations and history.' },
  3006: { name: 'badAck', retry: false, fatal: false, meaning: 'A push ACK names a SID that was never sent on this connection.' },
  4101: { name: 'roomLimit', retry: false, fatal: false, meaning: 'The device is already in as many rooms as it may be; leave one first.' },
  4102: { name: 'notInRoom', retry: false, fatal: false, meaning: 'The request names a room this connection has not joined.' },
  4103: { name: 'roomRateLimited', retry: true, fatal: false, meaning: 'Too many room messages from this sender; slow down.' },
  3007: { name: 'quotaExceeded', retry: true, fatal: false, meaning: 'The user sent more messages or content bytes than the send quota allows; retry after the window.' },
  4001: { name: 'notGroupMember', retry: false, fatal: false, meaning: 'The session is not a member of the group (never was, left, was removed, or the group was dissolved).' },
  4002: { name: 'groupFull', retry: false, fatal: false, meaning: 'The group has reached its member limit.' },
  4003: { name: 'tooManyGroups', retry: false, fatal: false, meaning: 'A user would be in more groups than the per-user limit allows.' },
  4004: { name: 'groupMuted', retry: true, fatal: false, meaning: 'The sender is muted in this group, or the whole group is muted for members.' },
  4005: { name: 'groupRightMissing', retry: false, fatal: false, meaning: 'The sender\'s role in the group does not allow this action on this target (§18.3).' },
  4006: { name: 'ownerCannotLeave', retry: false, fatal: false, meaning: 'The owner must transfer ownership or dissolve the group instead of leaving.' },
  4007: { name: 'groupNoMedia', retry: false, fatal: false, meaning: 'The group accepts text messages only (kind 1).' },
  4008: { name: 'groupClosed', retry: false, fatal: false, meaning: 'The group is not open: members join only when invited.' },
  4009: { name: 'receiptsNotServed', retry: false, fatal: false, meaning: 'Read receipts are served only for groups up to the receipt size limit.' },
  5001: { name: 'internal', retry: true, fatal: false, meaning: 'The server failed to complete the request; nothing was acknowledged.' },
  5002: { name: 'overloaded', retry: true, fatal: true, meaning: 'The server refuses new work for now; reconnect after a jittered backoff.' },
  5003: { name: 'shuttingDown', retry: true, fatal: true, meaning: 'The server is draining; reconnect (to another node) after a jittered delay.' },
};

/** A protocol-level failure with a code from the table above. Never thrown across the socket boundary as a string. */
export class ProtocolError extends Error {
  readonly code: ErrorCodeValue;

  constructor(code: ErrorCodeValue, message?: string) {
    super(message ?? ERROR_INFO[code].meaning);
    this.name = 'ProtocolError';
    this.code = code;
  }

  get retry(): boolean {
    return ERROR_INFO[this.code].retry;
  }

  get fatal(): boolean {
    return ERROR_INFO[this.code].fatal;
  }
}

export function isErrorCode(value: number): value is ErrorCodeValue {
  return Object.prototype.hasOwnProperty.call(ERROR_INFO, value);
}
