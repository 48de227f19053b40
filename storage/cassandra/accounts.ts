/** Accounts on Cassandra: created with a lightweight transaction, so one user id has one account. */
import type { Account, AccountStore } from '../ports.ts';
import { toNumber, toText } from './errors.ts';
import { tenantKey } from './history.ts';
import type { Session } from './session.ts';

export class CassandraAccounts implements AccountStore {
  private readonly insert: string;
  private readonly select: string;

  constructor(
    private readonly session: Session,
    keyspace: string,
    private readonly tenant: string,
  ) {
    this.insert = `INSERT INTO ${keyspace}.accounts (user_id, salt, password_hash, created_at) VALUES (?, ?, ?, ?) IF NOT EXISTS`;
    this.select = `SELECT salt, password_hash, created_at FROM ${keyspace}.accounts WHERE user_id = ?`;
  }

  async create(account: Account): Promise<boolean> {
    const key = tenantKey(this.tenant, account.userId);
    const { applied } = await this.session.conditional(this.insert, [key, account.salt, account.passwordHash, BigInt(account.createdAt)]);
    return applied;
  }

  async get(userId: string): Promise<Account | undefined> {
    const [row] = await this.session.read(this.select, [tenantKey(this.tenant, userId)]);
    if (row === undefined) return undefined;
    return {
      userId,
      salt: toText('salt', row.get('salt')),
      passwordHash: toText('password_hash', row.get('password_hash')),
      createdAt: toNumber('created_at', row.get('created_at')),
    };
  }
}
