/**
 * Conversation ids (SPEC §5.5): `p:<a>:<b>` for two users, the smaller id first, and
 * `g:<groupId>` for a group's timeline. Server, stores and clients build and read them here.
 */

const DIRECT = 'p';
const GROUP_PREFIX = 'g:';

/** The id of the 1:1 conversation of two users: the same from both sides. */
export function directConversationId(a: string, b: string): string {
  return a < b ? `${DIRECT}:${a}:${b}` : `${DIRECT}:${b}:${a}`;
}

/** The two participants of a 1:1 conversation id, or undefined when it is not one. */
export function participants(conversationId: string): [string, string] | undefined {
  const parts = conversationId.split(':');
  if (parts.length !== 3 || parts[0] !== DIRECT) return undefined;
  return [parts[1] as string, parts[2] as string];
}

/** The conversation id of a group's timeline. */
export function groupConversationId(groupId: string): string {
  return `${GROUP_PREFIX}${groupId}`;
}

/** The group of a group conversation id, or undefined when it is not one. */
export function groupIdOf(conversationId: string): string | undefined {
  return conversationId.startsWith(GROUP_PREFIX) ? conversationId.slice(GROUP_PREFIX.length) : undefined;
}
