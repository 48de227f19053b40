import { randomBytes } from 'node:crypto';
import { Platform } from '../../protocol/bodies.ts';
import { ErrorCode, ProtocolError } from '../../protocol/errors.ts';

const USER_ID = /^[A-Za-z0-9_.-]{1,64}$/;

export function checkUserId(userId: string): string {
  if (!USER_ID.test(userId)) throw new ProtocolError(ErrorCode.badUserId, `user id "${userId.slice(0, 80)}" is not 1-64 characters of [A-Za-z0-9_.-]`);
  return userId;
}

const PLATFORMS: ReadonlySet<number> = new Set(Object.values(Platform));

/**
 * One live session per user and platform, so the platforms bound a user's sessions: at most
 * MAX_SESSIONS_PER_USER, a new one replacing the older on its platform (SPEC §8.2).
 */
export const MAX_SESSIONS_PER_USER = PLATFORMS.size;

export function checkPlatform(platform: number): number {
  if (!PLATFORMS.has(platform)) throw new ProtocolError(ErrorCode.badBody, `platform ${platform} is not one of ${[...PLATFORMS].join(', ')}`);
  return platform;
}

export { directConversationId, participants } from '../../protocol/conversation-ids.ts';

/** Server message ids: time-ordered and unique across processes (ms time + 64 random bits). */
/**
 * A process-wide random prefix and a counter make ids unique across processes and restarts
 * without 8 fresh random bytes (a syscall's worth of work) per message.
 */
const processPrefix = randomBytes(6).toString('hex');
let idCounter = 0;

export function newMessageId(now: number): string {
  idCounter = (idCounter + 1) % 0x1000000;
  return `${now.toString(36)}${processPrefix}${idCounter.toString(36).padStart(5, '0')}`;
}
