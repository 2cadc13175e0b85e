import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, type EntityManager, type Repository, type SelectQueryBuilder } from 'typeorm';

import type { Role } from '../auth/roles.js';
import { cursorTimestampSql } from '../common/http/pagination.js';
import { UserAccount } from './entities/user-account.entity.js';

/** An account with its available credits (unexpired allocations' remaining; held credits are out). */
export interface AccountWithCredits {
  account: UserAccount;
  totalCredits: number;
  /** created_at with microseconds, for the keyset cursor (a JS Date would round it). */
  cursorT: string;
}

export interface AccountFields {
  userId: string;
  email: string | null;
  username: string | null;
  role: Role;
}

/** The channel an account write is announced on (users.repository's upsert, AccountsService listens). */
export const ACCOUNT_CHANNEL = 'accounting_account_synced';

/** user_accounts: TypeORM for the plain reads and inserts, SQL for the token upsert (the money path locks its rows through the credits module: credits_lock_accounts()). */
@Injectable()
export class UsersRepository {
  constructor(@InjectRepository(UserAccount) private readonly accounts: Repository<UserAccount>) {}

  async findWithCredits(userId: string): Promise<AccountWithCredits | null> {
    const [found] = await this.withCredits(
      this.accounts.createQueryBuilder('u').where('u.userId = :userId', { userId }),
    );
    return found ?? null;
  }

  /** Accounts oldest first, matching `search` in id, email or username (case-insensitive). */
  async listWithCredits(query: {
    search?: string;
    after: { t: string; id: string } | null;
    limit: number;
  }): Promise<AccountWithCredits[]> {
    const qb = this.accounts.createQueryBuilder('u');
    if (query.search) {
      const pattern = `%${query.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      qb.andWhere(
        new Brackets((w) =>
          w.where('u.userId ILIKE :pattern').orWhere('u.email ILIKE :pattern').orWhere('u.username ILIKE :pattern'),
        ),
        { pattern },
      );
    }
    if (query.after) {
      qb.andWhere('(u.createdAt, u.userId) > (CAST(:t AS timestamptz), :id)', query.after);
    }
    return this.withCredits(qb.orderBy('u.createdAt').addOrderBy('u.userId').limit(query.limit));
  }

  private async withCredits(qb: SelectQueryBuilder<UserAccount>): Promise<AccountWithCredits[]> {
    const { entities, raw } = await qb
      .addSelect('credit_available(u.user_id)', 'total_credits')
      .addSelect(cursorTimestampSql('u.created_at'), 'cursor_t')
      .getRawAndEntities<{ total_credits: string; cursor_t: string }>();
    // One row per account (no joins), so entities and raw rows line up.
    return entities.map((account, i) => ({
      account,
      totalCredits: Number(raw[i].total_credits),
      cursorT: raw[i].cursor_t,
    }));
  }

  /**
   * Creates the account or refreshes what its token says (an absent email or username keeps the
   * stored one); writes nothing, and takes no lock, when nothing changed (the account row is the
   * money path's lock). A write notifies ACCOUNT_CHANNEL with `{u, f}` (the user, the token's
   * `fingerprint`), so other instances drop what they remembered of the account.
   */
  async upsertFromToken(account: AccountFields, fingerprint: string): Promise<void> {
    await this.accounts.query(
      `WITH cur AS (SELECT email, username, role FROM user_accounts WHERE user_id = $1::varchar),
            w AS (
              INSERT INTO user_accounts (user_id, email, username, role)
              SELECT $1::varchar, $2::varchar, $3::varchar, $4::varchar
               WHERE NOT EXISTS (SELECT 1 FROM cur
                                  WHERE (cur.email, cur.username, cur.role)
                                        IS NOT DISTINCT FROM (COALESCE($2, cur.email), COALESCE($3, cur.username), $4))
              ON CONFLICT (user_id) DO UPDATE
                SET email = COALESCE(EXCLUDED.email, user_accounts.email),
                    username = COALESCE(EXCLUDED.username, user_accounts.username),
                    role = EXCLUDED.role,
                    updated_at = now()
              WHERE (user_accounts.email, user_accounts.username, user_accounts.role)
                    IS DISTINCT FROM (COALESCE(EXCLUDED.email, user_accounts.email),
                                      COALESCE(EXCLUDED.username, user_accounts.username), EXCLUDED.role)
              RETURNING user_id)
       SELECT pg_notify('${ACCOUNT_CHANNEL}', json_build_object('u', w.user_id, 'f', $5::text)::text) FROM w`,
      [account.userId, account.email, account.username, account.role, fingerprint],
    );
  }

  async insertIfMissing(manager: EntityManager, account: AccountFields): Promise<void> {
    await manager
      .createQueryBuilder()
      .insert()
      .into(UserAccount)
      .values(account)
      .orIgnore()
      .updateEntity(false)
      .execute();
  }

  exists(manager: EntityManager, userId: string): Promise<boolean> {
    return manager.existsBy(UserAccount, { userId });
  }
}
