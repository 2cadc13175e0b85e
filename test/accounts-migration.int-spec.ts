import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Accounts1732000024300 } from '../migrations/1732000024300-accounts.js';
import { MIGRATIONS } from '../migrations/index.js';
import { MigrationDatabase } from './support/migration-database.js';

/**
 * Migration 1732000024300 makes every existing user a user account, and the lock (1732000024400)
 * takes those rows: a database with users and credits from before takes and locks as before, every
 * user created afterwards gets an account, and the migrations go down and up again.
 */
describe('the accounts migration', () => {
  let own: MigrationDatabase;
  let db: pg.Pool;
  const migrate = (migrations: typeof MIGRATIONS) => own.migrate(migrations);
  const revert = (times: number) => own.revert(times);

  beforeAll(async () => {
    own = await MigrationDatabase.create('accounting_accounts');
    db = own.db;
  });
  afterAll(() => own?.close());

  /**
   * A strict debit by the take the schema at hand has: credits_take() before the one take (migration
   * 1732000051990 dropped it), then credits_take_events() with one event, by owner id until migration
   * 1732000065000 made it take account ids.
   */
  const take = async (userId: string, credits: number) => {
    const { rows } = await db.query<{ single: boolean; by_id: boolean }>(
      `SELECT to_regproc('credits_take') IS NOT NULL AS single,
              EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'credits_take_events' AND 'p_account_ids' = ANY (proargnames)) AS by_id`,
    );
    const sql = rows[0].single
      ? `SELECT out_status, out_balance_after FROM credits_take($1, $2, 'debit', 'strict', NULL, NULL, 'test', NULL,
                                                                 NULL, '{}')`
      : rows[0].by_id
        ? `SELECT out_status, out_balance AS out_balance_after
             FROM credits_take_events('test', NULL, NULL, '{}', ARRAY[(SELECT account_id FROM accounts WHERE user_id = $1)], ARRAY[$2::int],
                                      ARRAY[NULL::uuid])`
        : `SELECT out_status, out_balance AS out_balance_after
             FROM credits_take_events('test', NULL, NULL, '{}', ARRAY[$1::varchar], ARRAY[$2::int], ARRAY[NULL::uuid])`;
    return (await db.query<{ out_status: string; out_balance_after: string }>(sql, [userId, credits])).rows[0];
  };

  it('makes every user an account, locks it, and goes down and up again', async () => {
    const before = MIGRATIONS.slice(0, MIGRATIONS.indexOf(Accounts1732000024300));
    await migrate(before);
    await db.query(`INSERT INTO user_accounts (user_id, created_at) VALUES ('first', now() - interval '2 days'),
                                                                            ('second', now() - interval '1 day')`);
    await db.query(
      `INSERT INTO credit_allocations (user_id, total_credits, remaining_credits, allocated_by, expires_at)
       VALUES ('first', 10, 10, 'test', now() + interval '5 days')`,
    );

    await migrate(MIGRATIONS);
    const accounts = await db.query(`SELECT account_id::int AS id, kind, user_id FROM accounts ORDER BY account_id`);
    // In the order the users were created (the migrations' own `system` user, made just now, last).
    expect(accounts.rows.map((r) => [r.kind, r.user_id])).toEqual([
      ['user', 'first'],
      ['user', 'second'],
      ['user', 'system'],
    ]);
    expect(await take('first', 4)).toEqual({ out_status: 'ok', out_balance_after: '6' });
    // A user made afterwards has an account at once, whoever inserts the row.
    await db.query(`INSERT INTO user_accounts (user_id) VALUES ('later')`);
    expect((await db.query(`SELECT kind FROM accounts WHERE user_id = 'later'`)).rows).toEqual([{ kind: 'user' }]);
    expect(await take('later', 0)).toEqual({ out_status: 'ok', out_balance_after: '0' });
    // No account, no take: the lock finds nothing to lock.
    expect((await take('nobody', 1)).out_status).toBe('no_account');
    // An org account needs an org id and no user, a user account a user (migration 1732000024900);
    // an organisation's row opens its account, and an org account names an existing org (1732000030000).
    await db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ('acme', 'Acme', 'admin')`);
    expect((await db.query(`SELECT kind FROM accounts WHERE org_id = 'acme'`)).rows).toEqual([{ kind: 'org' }]);
    await expect(db.query(`INSERT INTO accounts (kind, org_id) VALUES ('org', 'ghost')`)).rejects.toThrow(
      /accounts_org_id_fkey/,
    );
    await expect(db.query(`INSERT INTO accounts (kind) VALUES ('org')`)).rejects.toThrow(/accounts_owner_check/);
    await expect(db.query(`INSERT INTO accounts (kind) VALUES ('user')`)).rejects.toThrow(/accounts_owner_check/);
    // The money made before the accounts is keyed by the user's account.
    expect(
      (
        await db.query(`SELECT count(*)::int AS n FROM credit_allocations c JOIN accounts a USING (account_id)
                        WHERE a.user_id = 'first'`)
      ).rows[0].n,
    ).toBe(1);

    // Down (with every migration after it): the lock back on user_accounts, the table gone; the take
    // still works.
    await revert(MIGRATIONS.length - MIGRATIONS.indexOf(Accounts1732000024300));
    expect((await db.query(`SELECT to_regclass('accounts') AS t`)).rows[0].t).toBeNull();
    expect(await take('first', 1)).toEqual({ out_status: 'ok', out_balance_after: '5' });
    await migrate(MIGRATIONS);
    expect((await db.query(`SELECT count(*)::int AS n FROM accounts`)).rows[0].n).toBe(4);
    expect(await take('first', 1)).toEqual({ out_status: 'ok', out_balance_after: '4' });
  });
});
