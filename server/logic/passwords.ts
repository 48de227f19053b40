import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { ErrorCode, ProtocolError } from '../../protocol/errors.ts';
import { Admission } from '../../storage/admission.ts';

/** scrypt cost: N = 2^15 by default (~32 MiB, memory-hard); tests lower it to stay fast. */
export interface PasswordPolicy {
  readonly cost: number;
  /** scrypt derivations running at once (each holds 128 · N · 8 bytes); default 1. */
  readonly concurrency?: number;
  /** Derivations waiting for a slot; one more is refused with 5002 (default 16). */
  readonly queueLimit?: number;
}

/** scrypt N for new passwords unless configured otherwise. */
export const DEFAULT_SCRYPT_COST = 2 ** 15;

/**
 * One at a time keeps scrypt's memory at 32 MiB (two made a guessing attack grow the process by
 * 78 MiB) and leaves libuv threads for the store; 16 waiting at ~190 ms each is about 3 s, well
 * inside the 10 s login deadline even on a loaded machine. Past that a login would time out
 * anyway, so it is refused at once (policy: reject with 5002).
 */
export const DEFAULT_SCRYPT_CONCURRENCY = 1;
export const DEFAULT_SCRYPT_QUEUE = 16;

const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, cost: number): Promise<Buffer> {
  // scrypt needs 128 · N · r bytes; maxmem leaves room above that.
  const options: ScryptOptions = { N: cost, r: 8, p: 1, maxmem: 256 * cost * 8 + 16 * 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/**
 * Password hashing and checking through a bounded queue of scrypt derivations, so that guessing
 * connections cannot make a legitimate login wait past its deadline or the process hold one
 * 32 MiB derivation per connection. A check for an unknown user derives too (against a dummy
 * salt), so the answer's timing does not tell whether the user exists.
 */
export class Passwords {
  private readonly admission: Admission;
  private readonly dummySalt = randomBytes(16);
  /** Derivations started, for tests that count work instead of timing it. */
  derivations = 0;

  constructor(private readonly policy: PasswordPolicy) {
    this.admission = new Admission(policy.concurrency ?? DEFAULT_SCRYPT_CONCURRENCY, policy.queueLimit ?? DEFAULT_SCRYPT_QUEUE);
  }

  /** Returns a fresh random salt and "scrypt$N$hash" (hex). */
  async hash(password: string): Promise<{ salt: string; hash: string }> {
    const salt = randomBytes(16);
    const key = await this.derive(password, salt, this.policy.cost);
    return { salt: salt.toString('hex'), hash: `scrypt$${this.policy.cost}$${key.toString('hex')}` };
  }

  async verify(password: string, salt: string, stored: string): Promise<boolean> {
    const [scheme, cost, hex] = stored.split('$');
    if (scheme !== 'scrypt' || !cost || !hex) return false;
    const expected = Buffer.from(hex, 'hex');
    const actual = await this.derive(password, Buffer.from(salt, 'hex'), Number(cost));
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }

  /** The same work as a check of an existing account, for a user that does not exist; always false. */
  async verifyUnknown(password: string): Promise<false> {
    await this.derive(password, this.dummySalt, this.policy.cost);
    return false;
  }

  /** Waits for a derivation slot (5002 when the queue is full), then derives. */
  private async derive(password: string, salt: Buffer, cost: number): Promise<Buffer> {
    if (!(await this.admission.enter())) throw new ProtocolError(ErrorCode.overloaded, 'too many password checks waiting; retry later');
    this.derivations++;
    try {
      return await derive(password, salt, cost);
    } finally {
      this.admission.leave();
    }
  }
}
