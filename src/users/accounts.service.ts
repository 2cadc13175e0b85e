import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import type { AuthUser, Role } from '../auth/roles.js';
import { UsersRepository } from './users.repository.js';

const CACHE_LIMIT = 10_000;

/**
 * The accounts table as other modules use it. Accounts are created on a subject's first request and
 * refreshed when its token says something new; an in-process cache of what was last written keeps
 * the request path free of account writes.
 */
@Injectable()
export class AccountsService {
  private readonly known = new Map<string, string>();

  constructor(private readonly users: UsersRepository) {}

  async syncFromToken(user: Pick<AuthUser, 'userId' | 'email' | 'username' | 'role'>): Promise<void> {
    const fingerprint = `${user.role}\u0000${user.email ?? ''}\u0000${user.username ?? ''}`;
    if (this.known.get(user.userId) === fingerprint) return;
    await this.users.upsertFromToken(user);
    if (this.known.size >= CACHE_LIMIT) this.known.delete(this.known.keys().next().value as string);
    this.known.set(user.userId, fingerprint);
  }

  /** Creates the account if it does not exist yet (used when credits are granted ahead of a login). */
  async createIfMissing(
    manager: EntityManager,
    account: { userId: string; email: string | null; username: string | null; role?: Role },
  ): Promise<void> {
    await this.users.insertIfMissing(manager, { ...account, role: account.role ?? 'user' });
  }

  exists(manager: EntityManager, userId: string): Promise<boolean> {
    return this.users.exists(manager, userId);
  }

  /**
   * The per-user lock every credit movement takes first: one user's money transactions serialise,
   * different users never wait on each other. Returns false when the account does not exist.
   */
  lock(manager: EntityManager, userId: string): Promise<boolean> {
    return this.users.lock(manager, userId);
  }
}
