import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';

import type { OrgRole } from '../auth/org-roles.js';
import type { Role } from '../auth/roles.js';
import { UserAccount } from './entities/user-account.entity.js';

export interface AccountFields {
  userId: string;
  email: string | null;
  username: string | null;
  role: Role;
}

/** The channel an account write is announced on (AccountsRepository's upsert, AccountsService listens). */
export const ACCOUNT_CHANNEL = 'accounting_account_synced';

/**
 * The account rows (user_accounts): TypeORM for the plain reads and inserts, SQL for the token upsert.
 * The money path locks them through the credits module (credits_lock_account_ids()).
 */
@Injectable()
export class AccountsRepository {
  constructor(@InjectRepository(UserAccount) private readonly accounts: Repository<UserAccount>) {}

  /**
   * Creates the account or refreshes what its token says (an absent email or username keeps the
   * stored one); writes nothing, and takes no lock, when nothing changed (the account row is the
   * money path's lock). A write notifies ACCOUNT_CHANNEL with `{u, f}` (the user, the token's
   * `fingerprint`), so other instances drop what they remembered of the account. Answers whether
   * this statement created it (an insert leaves `xmax` 0; an update of an existing row does not), and
   * whether the account was erased: then nothing is written (the token's email and username never
   * come back, docs/erasure.md).
   */
  async upsertFromToken(
    account: AccountFields,
    fingerprint: string,
    manager?: EntityManager,
  ): Promise<{ created: boolean; erased: boolean }> {
    const rows: { created: boolean | null; erased: boolean }[] = await (manager ?? this.accounts.manager).query(
      `WITH cur AS (SELECT email, username, role, erased_at FROM user_accounts WHERE user_id = $1::varchar),
            w AS (
              INSERT INTO user_accounts (user_id, email, username, role)
              SELECT $1::varchar, $2::varchar, $3::varchar, $4::varchar
               WHERE NOT EXISTS (SELECT 1 FROM cur
                                  WHERE cur.erased_at IS NOT NULL
                                     OR (cur.email, cur.username, cur.role)
                                        IS NOT DISTINCT FROM (COALESCE($2, cur.email), COALESCE($3, cur.username), $4))
              ON CONFLICT (user_id) DO UPDATE
                SET email = COALESCE(EXCLUDED.email, user_accounts.email),
                    username = COALESCE(EXCLUDED.username, user_accounts.username),
                    role = EXCLUDED.role,
                    updated_at = now()
              WHERE user_accounts.erased_at IS NULL
                AND (user_accounts.email, user_accounts.username, user_accounts.role)
                    IS DISTINCT FROM (COALESCE(EXCLUDED.email, user_accounts.email),
                                      COALESCE(EXCLUDED.username, user_accounts.username), EXCLUDED.role)
              RETURNING user_id, (xmax = 0) AS created),
            n AS (SELECT pg_notify('${ACCOUNT_CHANNEL}', json_build_object('u', w.user_id, 'f', $5::text)::text), w.created
                    FROM w)
       SELECT (SELECT n.created FROM n) AS created, EXISTS (SELECT 1 FROM cur WHERE cur.erased_at IS NOT NULL) AS erased`,
      [account.userId, account.email, account.username, account.role, fingerprint],
    );
    return { created: rows[0]?.created === true, erased: rows[0]?.erased === true };
  }

  /** Every erased user (an instance reads them when it starts listening). */
  async erasedIds(): Promise<string[]> {
    const rows: { user_id: string }[] = await this.accounts.query(
      `SELECT user_id FROM user_accounts WHERE erased_at IS NOT NULL`,
    );
    return rows.map((r) => r.user_id);
  }

  /**
   * The person an erasure is about, locked for it, with their account's id (null: none); null: no
   * such user.
   */
  async lockForErasure(
    manager: EntityManager,
    userId: string,
  ): Promise<{
    accountId: string | null;
    email: string | null;
    username: string | null;
    erasedAt: Date | null;
  } | null> {
    const rows: { account_id: string | null; email: string | null; username: string | null; erased_at: Date | null }[] =
      await manager.query(
        `SELECT a.account_id, u.email, u.username, u.erased_at
           FROM user_accounts u LEFT JOIN accounts a ON a.user_id = u.user_id
          WHERE u.user_id = $1 FOR UPDATE OF u`,
        [userId],
      );
    const row = rows[0];
    return row
      ? { accountId: row.account_id, email: row.email, username: row.username, erasedAt: row.erased_at }
      : null;
  }

  /**
   * Erases the account's person: email and username null, `erased_at` set; announced on
   * ACCOUNT_CHANNEL with `{u, e: true}` (every instance then refuses the user). Answers `erased_at`.
   */
  async markErased(manager: EntityManager, userId: string): Promise<Date> {
    const rows: { erased_at: Date }[] = await manager.query(
      `WITH w AS (
         UPDATE user_accounts SET email = NULL, username = NULL, erased_at = COALESCE(erased_at, now()), updated_at = now()
          WHERE user_id = $1 RETURNING user_id, erased_at)
       SELECT pg_notify('${ACCOUNT_CHANNEL}', json_build_object('u', w.user_id, 'e', true)::text), w.erased_at FROM w`,
      [userId],
    );
    return rows[0].erased_at;
  }

  /** Inserts the account unless it exists; answers whether it did. */
  async insertIfMissing(manager: EntityManager, account: AccountFields): Promise<boolean> {
    const result = await manager
      .createQueryBuilder()
      .insert()
      .into(UserAccount)
      .values(account)
      .orIgnore()
      .returning('user_id')
      .updateEntity(false)
      .execute();
    return (result.raw as unknown[]).length > 0;
  }

  /** The pool's manager (a read outside any transaction). */
  get pool(): EntityManager {
    return this.accounts.manager;
  }

  exists(manager: EntityManager, userId: string): Promise<boolean> {
    return manager.existsBy(UserAccount, { userId });
  }

  /** The account's billing currency (null: not set yet, or no such account). */
  async billingCurrency(manager: EntityManager, accountId: string): Promise<string | null> {
    const rows: { currency: string | null }[] = await manager.query(
      `SELECT billing_currency AS currency FROM accounts WHERE account_id = $1::bigint`,
      [accountId],
    );
    return rows[0]?.currency ?? null;
  }

  /** Sets the account's billing currency (the caller holds the account lock). */
  async setBillingCurrency(manager: EntityManager, accountId: string, currency: string): Promise<void> {
    await manager.query(`UPDATE accounts SET billing_currency = $2 WHERE account_id = $1::bigint`, [
      accountId,
      currency,
    ]);
  }

  /** The account ids of these users' and orgs' accounts (one statement; an owner without one: no row). */
  async accountIds(
    manager: EntityManager,
    userIds: string[],
    orgIds: string[],
  ): Promise<{ userId: string | null; orgId: string | null; accountId: string }[]> {
    return manager.query(
      `SELECT user_id AS "userId", org_id AS "orgId", account_id::text AS "accountId" FROM accounts
        WHERE user_id = ANY($1::varchar[])
       UNION ALL
       SELECT user_id, org_id, account_id::text FROM accounts WHERE org_id = ANY($2::varchar[])`,
      [userIds, orgIds],
    );
  }

  /** When the account was opened (its user's or org's creation); null when there is no such account. */
  async opened(manager: EntityManager, accountId: string): Promise<Date | null> {
    const rows: { created_at: Date }[] = await manager.query(
      `SELECT COALESCE(u.created_at, o.created_at) AS created_at
         FROM accounts a
         LEFT JOIN user_accounts u ON u.user_id = a.user_id
         LEFT JOIN orgs o ON o.org_id = a.org_id
        WHERE a.account_id = $1`,
      [accountId],
    );
    return rows[0]?.created_at ?? null;
  }

  /**
   * The account an owner names and, for an org's, the user's active role in it (org_member_role():
   * null unless a member), in one statement: what the access rule reads (account-resolver.ts); with
   * `manager`, in its transaction.
   */
  async standing(
    kind: 'user' | 'org',
    ownerId: string,
    userId: string,
    manager: EntityManager = this.accounts.manager,
  ): Promise<{ accountId: string | null; role: OrgRole | null }> {
    const rows: { accountId: string | null; role: OrgRole | null }[] = await manager.query(
      kind === 'org'
        ? `SELECT (SELECT a.account_id::text FROM accounts a JOIN orgs o ON o.org_id = a.org_id WHERE a.org_id = $1)
                    AS "accountId", org_member_role($1, $2) AS role`
        : `SELECT (SELECT account_id::text FROM accounts WHERE user_id = $1) AS "accountId", NULL AS role`,
      kind === 'org' ? [ownerId, userId] : [ownerId],
    );
    return rows[0];
  }
}
