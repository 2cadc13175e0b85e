import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

import type { ResolvedAccount } from '../auth/account-access.js';
import type { AuthUser } from '../auth/roles.js';
import type { PortalScope } from './entities/portal-session.entity.js';

export interface NewPortalSession {
  tokenHash: Buffer;
  /**
   * The account the session reaches, as the one access rule resolved it: the user's own, or an
   * organisation's with the user as its member (the row names the user and, for an org's, the org).
   */
  account: Pick<ResolvedAccount, 'kind' | 'ownerId' | 'memberId'>;
  scope: PortalScope;
  createdBy: string;
  createdByKeyId: string | null;
  expiresAt: Date;
}

/** portal_sessions: the mint, the end, and the lookup every portal request makes. */
@Injectable()
export class PortalSessionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Deletes up to `batch` sessions that are over at `at` (ended, or past `expires_at`): their tokens
   * answer 401 either way, and a row kept would only grow the table. Keys made in a session name it
   * by id only (no foreign key), so they outlive its row. Answers how many were deleted.
   */
  async deleteOver(at: Date, batch: number): Promise<number> {
    const rows: { n: number }[] = await this.dataSource.query(
      `WITH over AS (
         SELECT id FROM portal_sessions
          WHERE expires_at <= $1 OR ended_at IS NOT NULL
          LIMIT $2
            FOR UPDATE SKIP LOCKED),
       gone AS (DELETE FROM portal_sessions s USING over WHERE s.id = over.id RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [at, batch],
    );
    return rows[0].n;
  }

  async insert(manager: EntityManager, s: NewPortalSession): Promise<{ id: string; expiresAt: Date }> {
    const org = s.account.kind === 'org';
    const userId = org ? s.account.memberId : s.account.ownerId;
    if (userId === null) throw new Error("A portal session of an organisation's account names its member");
    const rows: Array<{ id: string; expires_at: Date }> = await manager.query(
      `INSERT INTO portal_sessions (token_hash, user_id, org_id, scope, created_by, created_by_key_id, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, expires_at`,
      [s.tokenHash, userId, org ? s.account.ownerId : null, s.scope, s.createdBy, s.createdByKeyId, s.expiresAt],
    );
    return { id: rows[0].id, expiresAt: rows[0].expires_at };
  }

  /** Ends a session (again: no change); false when there is none with that id. */
  async end(manager: EntityManager, id: string, at: Date): Promise<boolean> {
    // Wrapped in a SELECT: a bare UPDATE's answer through TypeORM is [rows, count], not the rows.
    const rows: Array<{ n: number }> = await manager.query(
      `WITH ended AS (UPDATE portal_sessions SET ended_at = COALESCE(ended_at, $2) WHERE id = $1 RETURNING 1)
       SELECT count(*)::int AS n FROM ended`,
      [id, at],
    );
    return rows[0].n > 0;
  }

  /** A live session as its page sees it (the user's role in its org is the access rule's read). */
  async current(
    manager: EntityManager,
    id: string,
  ): Promise<{ userId: string; orgId: string | null; expiresAt: Date } | null> {
    const rows: Array<{ user_id: string; org_id: string | null; expires_at: Date }> = await manager.query(
      `SELECT user_id, org_id, expires_at FROM portal_sessions WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    return row ? { userId: row.user_id, orgId: row.org_id, expiresAt: row.expires_at } : null;
  }

  /**
   * The caller a session's token stands for, in one indexed lookup by the token's digest: the user,
   * with the least role, limited to the session's account (`portal`). `over`: ended, or past
   * `expires_at` at the instant asked.
   */
  async lookup(
    manager: EntityManager,
    tokenHash: Buffer,
    at: Date,
  ): Promise<{ caller: AuthUser; over: boolean } | null> {
    const rows: Array<{
      id: string;
      user_id: string;
      org_id: string | null;
      scope: PortalScope;
      email: string | null;
      username: string | null;
      over: boolean;
    }> = await manager.query(
      `SELECT s.id, s.user_id, s.org_id, s.scope, u.email, u.username,
              (s.ended_at IS NOT NULL OR s.expires_at <= $2) AS over
         FROM portal_sessions s JOIN user_accounts u ON u.user_id = s.user_id
        WHERE s.token_hash = $1`,
      [tokenHash, at],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      caller: {
        userId: row.user_id,
        // The token is the user's with the least role, whatever their JWTs say: staff routes stay out.
        role: 'user',
        email: row.email,
        username: row.username,
        via: 'jwt',
        portal: { sessionId: row.id, orgId: row.org_id, scope: row.scope },
      },
      over: row.over,
    };
  }
}
