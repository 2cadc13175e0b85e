import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SubscriptionAccount1732003400000 } from '../migrations/1732003400000-subscription-account.js';
import { MIGRATIONS } from '../migrations/index.js';
import { MigrationDatabase } from './support/migration-database.js';

/**
 * Migration 1732003400000 gives every existing subscription, live or ended, its subscriber's account:
 * the user's for a user's subscription, the organisation's for an organisation's; an owner without an
 * account gets one first. The column is then required and points at `accounts`; the migration
 * reverts cleanly and runs again to the same figures.
 */
describe('the subscription account migration', () => {
  let own: MigrationDatabase;
  let db: pg.Pool;
  const at = MIGRATIONS.indexOf(SubscriptionAccount1732003400000);

  beforeAll(async () => {
    own = await MigrationDatabase.create('accounting_subscription_account');
    db = own.db;
  });
  afterAll(() => own?.close());

  const accountOf = async (column: 'user_id' | 'org_id', owner: string): Promise<string> =>
    (await db.query<{ account_id: string }>(`SELECT account_id FROM accounts WHERE ${column} = $1`, [owner])).rows[0]
      .account_id;
  const carried = async () =>
    (
      await db.query<{ owner: string; ended: boolean; account_id: string }>(
        `SELECT coalesce(user_id, org_id) AS owner, ended_at IS NOT NULL AS ended, account_id
           FROM subscriptions ORDER BY 1, 2`,
      )
    ).rows;

  it('fills the subscriber account of live and ended subscriptions, requires it, and reverts', async () => {
    expect(at).toBeGreaterThan(10);
    await own.migrate(MIGRATIONS.slice(0, at));
    await db.query(`INSERT INTO user_accounts (user_id) VALUES ('s-user'), ('s-member'), ('s-orphan')`);
    await db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ('s-org', 'Org', 's-member')`);
    // Owners whose account row is missing (rows older than accounts): the migration opens them.
    await db.query(`DELETE FROM accounts WHERE user_id = 's-orphan'`);
    await db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ('s-org-orphan', 'Orphan', 's-member')`);
    await db.query(`DELETE FROM accounts WHERE org_id = 's-org-orphan'`);
    await db.query(`INSERT INTO plans (id, name, credits, period, created_by) VALUES ('p', 'P', 10, 'month', 'a')`);
    await db.query(
      `INSERT INTO subscriptions (user_id, org_id, plan_id, starts_at, next_grant_at, created_by, ended_at)
       VALUES ('s-user', NULL, 'p', now(), now(), 'a', now() - interval '1 day'),
              ('s-user', NULL, 'p', now(), now(), 'a', NULL),
              ('s-member', NULL, 'p', now(), now(), 'a', NULL),
              (NULL, 's-org', 'p', now(), now(), 'a', NULL),
              ('s-orphan', NULL, 'p', now(), now(), 'a', NULL),
              (NULL, 's-org-orphan', 'p', now(), now(), 'a', now())`,
    );

    await own.migrate(MIGRATIONS);
    const user = await accountOf('user_id', 's-user');
    const member = await accountOf('user_id', 's-member');
    const org = await accountOf('org_id', 's-org');
    const orphan = await accountOf('user_id', 's-orphan');
    const orgOrphan = await accountOf('org_id', 's-org-orphan');
    expect(new Set([user, member, org, orphan, orgOrphan]).size).toBe(5);
    const expected = [
      { owner: 's-member', ended: false, account_id: member },
      { owner: 's-org', ended: false, account_id: org },
      { owner: 's-org-orphan', ended: true, account_id: orgOrphan },
      { owner: 's-orphan', ended: false, account_id: orphan },
      { owner: 's-user', ended: false, account_id: user },
      { owner: 's-user', ended: true, account_id: user },
    ];
    expect(await carried()).toEqual(expected);
    await expect(
      db.query(`INSERT INTO subscriptions (user_id, plan_id, starts_at, next_grant_at, created_by)
                VALUES ('s-member', 'p', now(), now(), 'a')`),
    ).rejects.toThrow(/account_id/);
    // The key that refuses an account that is not there is the user's pair's (migration 1732008000000).
    await expect(db.query(`UPDATE subscriptions SET account_id = -1 WHERE user_id = 's-user'`)).rejects.toThrow(
      /subscriptions_account_user_fkey/,
    );

    // Reverted with every migration after it, then run again: the same accounts.
    await own.revert(MIGRATIONS.length - at);
    const columns = await db.query(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'subscriptions' AND column_name = 'account_id'`,
    );
    expect(columns.rows).toEqual([]);
    await own.migrate(MIGRATIONS);
    expect(await carried()).toEqual(expected);
  }, 240_000);
});
