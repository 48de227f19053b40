import { createHash, randomBytes } from 'node:crypto';
import type { BodyOf } from '../../protocol/bodies.ts';
import { ErrorCode, ProtocolError } from '../../protocol/errors.ts';
import type { AccountStore, InboxStore, TokenStore } from '../../storage/ports.ts';
import type { ClientInfo, SessionInfo } from '../seam.ts';
import type { Clock } from './clock.ts';
import { checkPlatform, checkUserId } from './ids.ts';
import { addressOf, LoginThrottle, type ThrottlePolicy } from './login-throttle.ts';
import { Passwords, type PasswordPolicy } from './passwords.ts';

/** Session tokens live 30 days unless configured otherwise. */
export const DEFAULT_TOKEN_TTL_MS = 30 * 24 * 3600 * 1000;

export interface AuthOptions {
  readonly passwords: PasswordPolicy;
  readonly tokenTtlMs: number;
  /** Backoff after failed password logins; default DEFAULT_THROTTLE. */
  readonly throttle?: ThrottlePolicy;
}

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Accounts, passwords and session tokens. Sessions and presence are the caller's. */
export class Auth {
  /** Token hash of each live connection, so that revokeToken without a token revokes the session's own. */
  private readonly tokenByConnection = new Map<string, string>();
  readonly passwords: Passwords;
  private readonly throttle: LoginThrottle;

  constructor(
    private readonly accounts: AccountStore,
    private readonly tokens: TokenStore,
    private readonly inbox: InboxStore,
    private readonly clock: Clock,
    private readonly options: AuthOptions,
  ) {
    this.passwords = new Passwords(options.passwords);
    this.throttle = new LoginThrottle(clock, options.throttle);
  }

  async register(client: ClientInfo, body: BodyOf<'register'>): Promise<{ session: SessionInfo; reply: BodyOf<'session'> }> {
    checkPlatform(body.platform);
    checkUserId(body.userId);
    if (body.password.length < 1) throw new ProtocolError(ErrorCode.badCredentials, 'the password is empty');
    const { salt, hash } = await this.passwords.hash(body.password);
    const created = await this.accounts.create({ userId: body.userId, salt, passwordHash: hash, createdAt: this.clock.now() });
    if (!created) throw new ProtocolError(ErrorCode.userExists, `user id "${body.userId}" is taken`);
    return this.openSession(client, body.userId, body.deviceId, body.platform, undefined);
  }

  async login(client: ClientInfo, body: BodyOf<'login'>): Promise<{ session: SessionInfo; reply: BodyOf<'session'> }> {
    checkPlatform(body.platform);
    checkUserId(body.userId);
    if ((body.token === undefined) === (body.password === undefined)) throw new ProtocolError(ErrorCode.badBody, 'login needs exactly one of password and token');
    if (body.token !== undefined) {
      const record = await this.tokens.get(tokenHash(body.token));
      // A token is bound to the user and the device it was issued to: a copied token does not
      // log in another device (SPEC §8.1).
      if (!record || record.userId !== body.userId || record.deviceId !== body.deviceId || record.expiresAt <= this.clock.now()) throw new ProtocolError(ErrorCode.badToken);
      return this.openSession(client, body.userId, body.deviceId, body.platform, { token: body.token, expiresAt: record.expiresAt });
    }
    const address = addressOf(client.remoteAddress);
    const wait = this.throttle.attempt(body.userId, address);
    if (wait > 0) throw new ProtocolError(ErrorCode.rateLimited, `too many failed logins; retry in ${Math.ceil(wait / 1000)} s`);
    let valid: boolean;
    try {
      const password = body.password ?? '';
      const account = await this.accounts.get(body.userId);
      valid = account ? await this.passwords.verify(password, account.salt, account.passwordHash) : await this.passwords.verifyUnknown(password);
    } catch (error) {
      this.throttle.cancelled(body.userId, address);
      throw error;
    }
    if (!valid) throw new ProtocolError(ErrorCode.badCredentials);
    this.throttle.succeeded(body.userId, address);
    return this.openSession(client, body.userId, body.deviceId, body.platform, undefined);
  }

  /** Revokes a token of the session's user (its own when none is given); returns the other connections that used it. */
  async revoke(session: SessionInfo, token: string | undefined): Promise<string[]> {
    const hash = token === undefined ? this.tokenByConnection.get(session.connectionId) : tokenHash(token);
    if (hash === undefined) return [];
    const record = await this.tokens.get(hash);
    if (!record || record.userId !== session.userId) throw new ProtocolError(ErrorCode.badToken, 'no such token of yours');
    await this.tokens.revoke(hash);
    const users: string[] = [];
    for (const [connectionId, used] of this.tokenByConnection) if (used === hash && connectionId !== session.connectionId) users.push(connectionId);
    return users;
  }

  /**
   * Revokes the tokens the given live connections logged in with; returns how many tokens. The
   * token store has no index by user, so a token of a device that is offline is not found here.
   */
  async revokeOfConnections(connectionIds: readonly string[]): Promise<number> {
    const hashes = new Set<string>();
    for (const connectionId of connectionIds) {
      const hash = this.tokenByConnection.get(connectionId);
      if (hash !== undefined) hashes.add(hash);
    }
    for (const hash of hashes) await this.tokens.revoke(hash);
    return hashes.size;
  }

  /** Whether the connection logged in on this node (so its token is known here). */
  holds(connectionId: string): boolean {
    return this.tokenByConnection.has(connectionId);
  }

  forget(connectionId: string): void {
    this.tokenByConnection.delete(connectionId);
  }

  private async openSession(
    client: ClientInfo,
    userId: string,
    deviceId: string,
    platform: number,
    existing: { token: string; expiresAt: number } | undefined,
  ): Promise<{ session: SessionInfo; reply: BodyOf<'session'> }> {
    let token = existing?.token;
    let expiresAt = existing?.expiresAt ?? 0;
    if (token === undefined) {
      token = randomBytes(24).toString('base64url');
      expiresAt = this.clock.now() + this.options.tokenTtlMs;
      await this.tokens.put(tokenHash(token), { userId, deviceId, expiresAt });
    }
    this.tokenByConnection.set(client.connectionId, tokenHash(token));
    const [{ version, epoch }, ackedVersion] = await Promise.all([this.inbox.position(userId), this.inbox.cursor(userId, deviceId)]);
    return {
      session: { connectionId: client.connectionId, userId, deviceId, platform },
      reply: { userId, deviceId, token, tokenExpiresAt: expiresAt, version, ackedVersion, epoch },
    };
  }
}
