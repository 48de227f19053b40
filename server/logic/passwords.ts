import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** scrypt cost: N = 2^15 by default (~32 MiB, memory-hard); tests lower it to stay fast. */
export interface PasswordPolicy {
  readonly cost: number;
}

/** scrypt N for new passwords unless configured otherwise. */
export const DEFAULT_SCRYPT_COST = 2 ** 15;

const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, cost: number): Promise<Buffer> {
  // scrypt needs 128 · N · r bytes; maxmem leaves room above that.
  const options: ScryptOptions = { N: cost, r: 8, p: 1, maxmem: 256 * cost * 8 + 16 * 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** Returns "scrypt$N$salt$hash" (hex), with a fresh random salt per user. */
export async function hashPassword(password: string, policy: PasswordPolicy): Promise<{ salt: string; hash: string }> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, policy.cost);
  return { salt: salt.toString('hex'), hash: `scrypt$${policy.cost}$${key.toString('hex')}` };
}

export async function verifyPassword(password: string, salt: string, stored: string): Promise<boolean> {
  const [scheme, cost, hex] = stored.split('$');
  if (scheme !== 'scrypt' || !cost || !hex) return false;
  const expected = Buffer.from(hex, 'hex');
  const actual = await derive(password, Buffer.from(salt, 'hex'), Number(cost));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
