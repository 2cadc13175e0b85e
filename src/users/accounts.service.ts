import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

import type { AuthUser, Role } from '../auth/roles.js';

const CACHE_LIMIT = 10_000;

/**
 * The accounts table as other modules use it. Accounts are created on a subject's first request and
 * refreshed when its token says something new; an in-process cache of what was last written keeps
 * the request path free of account writes.
 */
@Injectable()
export class AccountsService {
  private readonly known = new Map<string, string>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async syncFromToken(user: Pick<AuthUser, 'userId' | 'email' | 'username' | 'role'>): Promise<void> {
    const fingerprint = `${user.role}\u0000${user.email ?? ''}\u0000${user.username ?? ''}`;
    if (this.known.get(user.userId) === fingerprint) return;
    await this.dataSource.query(
      `INSERT INTO user_accounts (user_id, email, username, role)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id) DO UPDATE
         SET email = COALESCE(EXCLUDED.email, user_accounts.email),
             username = COALESCE(EXCLUDED.username, user_accounts.username),
             role = EXCLUDED.role,
             updated_at = now()
       WHERE (user_accounts.email, user_accounts.username, user_accounts.role)
             IS DISTINCT FROM (COALESCE(EXCLUDED.email, user_accounts.email),
                               COALESCE(EXCLUDED.username, user_accounts.username), EXCLUDED.role)`,
      [user.userId, user.email, user.username, user.role],
    );
    if (this.known.size >= CACHE_LIMIT) this.known.delete(this.known.keys().next().value as string);
    this.known.set(user.userId, fingerprint);
  }

  /** Creates the account if it does not exist yet (used when credits are granted ahead of a login). */
  async createIfMissing(
    manager: EntityManager,
    account: { userId: string; email: string | null; username: string | null; role?: Role },
  ): Promise<void> {
    await manager.query(
      `INSERT INTO user_accounts (user_id, email, username, role) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id) DO NOTHING`,
      [account.userId, account.email, account.username, account.role ?? 'user'],
    );
  }

  async exists(manager: EntityManager, userId: string): Promise<boolean> {
    const rows = await manager.query(`SELECT 1 FROM user_accounts WHERE user_id = $1`, [userId]);
    return rows.length > 0;
  }

  /**
   * The per-user lock every credit movement takes first: one user's money transactions serialise,
   * different users never wait on each other. Returns false when the account does not exist.
   */
  async lock(manager: EntityManager, userId: string): Promise<boolean> {
    const rows = await manager.query(`SELECT 1 FROM user_accounts WHERE user_id = $1 FOR UPDATE`, [userId]);
    return rows.length > 0;
  }
}
