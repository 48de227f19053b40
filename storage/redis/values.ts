/**
 * Values kept in Redis as JSON of the protocol's positional arrays (protocol/schema.ts): compact,
 * and checked field by field when read back, so a value that is not what the store wrote fails
 * as a typed `corrupt` error instead of flowing on into the logic.
 */
import { Entry, Message, type EntryRecord, type MessageRecord } from '../../protocol/bodies.ts';
import { bool, optional, record, str, uint, type FieldType } from '../../protocol/schema.ts';
import type { Account, DedupRecord, GroupMemberState, GroupState, TokenRecord } from '../ports.ts';
import { RedisStoreError } from './errors.ts';

const text = str(4096);

const AccountValue = record({ userId: text, salt: text, passwordHash: text, createdAt: uint });
const TokenValue = record({ userId: text, deviceId: text, expiresAt: uint });
const DedupValue = record({ messageId: text, conversationId: text, seq: uint, sentAt: uint, version: optional(uint), epoch: optional(text) });

const GroupValue = record({
  groupId: text,
  name: text,
  notice: text,
  owner: text,
  open: bool,
  mutedAll: bool,
  noMedia: bool,
  historyForNewMembers: bool,
  createdAt: uint,
  writeDiffused: bool,
});
/** The read seq is kept apart (its own hash), so a member value changes only with membership. */
const MemberValue = record({ userId: text, role: uint, joinedAt: uint, joinSeq: uint, mutedUntil: uint });

export type StoredGroup = Omit<GroupState, 'memberCount' | 'lastSeq'>;
export type StoredMember = Omit<GroupMemberState, 'readSeq'>;

export interface Codec<T> {
  encode(value: T): string;
  decode(stored: string): T;
}

function codec<T>(what: string, type: FieldType<T>): Codec<T> {
  return {
    encode: (value) => JSON.stringify(type.toWire(value)),
    decode(stored) {
      try {
        return type.check(JSON.parse(stored), what);
      } catch (error) {
        throw new RedisStoreError('corrupt', `stored ${what} does not decode: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    },
  };
}

export const messages: Codec<MessageRecord> = codec('message', Message);
export const entries: Codec<EntryRecord> = codec('entry', Entry);
export const accounts: Codec<Account> = codec('account', AccountValue);
export const tokens: Codec<TokenRecord> = codec('token', TokenValue);
export const dedups: Codec<DedupRecord> = codec('dedup record', DedupValue);
export const groups: Codec<StoredGroup> = codec('group', GroupValue);
export const members: Codec<StoredMember> = codec('group member', MemberValue);
