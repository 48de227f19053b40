/**
 * Inboxes on Redis: per user a version counter (INCR) and a sorted set of entries scored by
 * version, trimmed to the newest maxEntries on every append, entries older than the retention
 * period dropped (DESIGN §4: 7 days, at most N entries), and the whole set expiring after that
 * period without appends. A member is `version|appendedAtMs|JSON`, so members are unique and the
 * scripts never parse JSON. The counter itself never expires: versions must not start over while
 * devices still hold cursors.
 *
 * Redis may still lose the counter (a restart without its AOF, a FLUSHALL), and then versions
 * would start over and be reused. So every version belongs to an epoch, kept in its own key: a
 * random id created, when the key is missing, by whichever script touches the inbox first. A
 * missing epoch key is the sign that the inbox state may have been lost, so the new id is a new
 * epoch; the counter and the epoch are read in the same script, so no reply can pair an old
 * epoch with a version counted after the loss. Devices compare epochs first (SPEC §11.2).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { EntryRecord } from '../../protocol/bodies.ts';
import type { InboxPosition, InboxRead, InboxStore, NewEntry } from '../ports.ts';
import { corrupt, toArray, toInt, toStringReply } from './errors.ts';
import type { Keys } from './keys.ts';
import { LuaScript } from './script.ts';
import { entries } from './values.ts';

/** Drops expired members from the oldest end (they are in time order); at most ARGV[limit] of them. */
const DROP_EXPIRED = `local function drop_expired(key, cutoff, most)
  local old = redis.call('ZRANGE', key, 0, most - 1)
  for _, m in ipairs(old) do
    local at = tonumber(string.match(m, '^%d+|(%d+)|'))
    if at == nil or at >= cutoff then break end
    redis.call('ZREM', key, m)
  end
end
`;

/** The inbox's epoch, created from the candidate when the key is missing (set-if-absent, inside the script). */
const EPOCH_OF = `local function epoch_of(key, candidate)
  local epoch = redis.call('GET', key)
  if epoch then return epoch end
  redis.call('SET', key, candidate)
  return candidate
end
`;

/** KEYS: version, entries, epoch. ARGV: entry JSON with a placeholder version, maxEntries, set expiry seconds, now ms, entry cutoff ms, candidate epoch. */
const appendScript = new LuaScript(
  'inboxAppend',
  `${DROP_EXPIRED}${EPOCH_OF}local epoch = epoch_of(KEYS[3], ARGV[6])
local v = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], v, v .. '|' .. ARGV[4] .. '|' .. ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -1 - tonumber(ARGV[2]))
drop_expired(KEYS[2], tonumber(ARGV[5]), 8)
redis.call('EXPIRE', KEYS[2], ARGV[3])
return {v, epoch}`,
);

/** KEYS: version, entries, epoch. ARGV: sinceVersion, limit, entry cutoff ms, candidate epoch. Returns latest, oldest kept (latest + 1 when none), the members and the epoch. */
const readScript = new LuaScript(
  'inboxRead',
  `${DROP_EXPIRED}${EPOCH_OF}local epoch = epoch_of(KEYS[3], ARGV[4])
local latest = tonumber(redis.call('GET', KEYS[1]) or '0')
drop_expired(KEYS[2], tonumber(ARGV[3]), 10000)
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local oldest = latest + 1
if first[2] then oldest = tonumber(first[2]) end
local members = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf', 'LIMIT', 0, ARGV[2])
return {latest, oldest, members, epoch}`,
);

/** KEYS: version, epoch. ARGV: candidate epoch. Returns the latest version and the epoch. */
const positionScript = new LuaScript(
  'inboxPosition',
  `${EPOCH_OF}local epoch = epoch_of(KEYS[2], ARGV[1])
return {tonumber(redis.call('GET', KEYS[1]) or '0'), epoch}`,
);

export const inboxScripts: readonly LuaScript[] = [appendScript, readScript, positionScript];

export interface InboxLimits {
  readonly maxEntries: number;
  /** The whole set expires after this long without appends. */
  readonly retentionSeconds: number;
  /** One entry is kept this long. */
  readonly entryRetentionMs: number;
  readonly now: () => number;
}

/** A new epoch id: 8 random bytes, so two epochs of one inbox never meet by chance. */
export function newEpoch(): string {
  return randomBytes(8).toString('hex');
}

function parseMember(member: unknown): EntryRecord {
  const text = toStringReply('inbox member', member);
  const bar = text.indexOf('|');
  const second = text.indexOf('|', bar + 1);
  if (bar < 1 || second < 0) throw corrupt('inbox member', text);
  const version = toInt('inbox version', text.slice(0, bar));
  return { ...entries.decode(text.slice(second + 1)), version };
}

function parsePosition(reply: unknown): InboxPosition {
  const [version, epoch] = toArray('inbox position', reply);
  return { version: toInt('inbox version', version), epoch: toStringReply('inbox epoch', epoch) };
}

export class RedisInbox implements InboxStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly limits: InboxLimits,
  ) {}

  async append(userId: string, entry: NewEntry): Promise<InboxPosition> {
    // The version is only known inside the script: the JSON carries 0 and the member's prefix the real one.
    const json = entries.encode({ ...entry, version: 0 });
    const keys = [this.keys.inboxVersion(userId), this.keys.inboxEntries(userId), this.keys.inboxEpoch(userId)];
    const now = this.limits.now();
    const args = [json, this.limits.maxEntries, this.limits.retentionSeconds, now, now - this.limits.entryRetentionMs, newEpoch()];
    return parsePosition(await appendScript.run(this.redis, keys, args));
  }

  async read(userId: string, sinceVersion: number, limit: number): Promise<InboxRead> {
    const keys = [this.keys.inboxVersion(userId), this.keys.inboxEntries(userId), this.keys.inboxEpoch(userId)];
    const cutoff = this.limits.now() - this.limits.entryRetentionMs;
    const [latest, oldest, members, epoch] = toArray('inbox read', await readScript.run(this.redis, keys, [sinceVersion, limit, cutoff, newEpoch()]));
    const latestVersion = toInt('latest version', latest);
    return {
      epoch: toStringReply('inbox epoch', epoch),
      entries: toArray('inbox entries', members).map(parseMember),
      latestVersion,
      oldestVersion: Math.max(1, toInt('oldest version', oldest)),
    };
  }

  async position(userId: string): Promise<InboxPosition> {
    const keys = [this.keys.inboxVersion(userId), this.keys.inboxEpoch(userId)];
    return parsePosition(await positionScript.run(this.redis, keys, [newEpoch()]));
  }

  async setCursor(userId: string, deviceId: string, version: number): Promise<void> {
    await this.redis.hset(this.keys.cursors(userId), deviceId, version);
  }

  async cursor(userId: string, deviceId: string): Promise<number> {
    const value = await this.redis.hget(this.keys.cursors(userId), deviceId);
    return value === null ? 0 : toInt('cursor', value);
  }
}
