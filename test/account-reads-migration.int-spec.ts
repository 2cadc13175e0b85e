import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AccountReads1732007800000 } from '../migrations/1732007800000-account-reads.js';
import { MIGRATIONS } from '../migrations/index.js';
import { MigrationDatabase } from './support/migration-database.js';

/**
 * Migration 1732007800000: an account's rows are read by `account_id`. The records' organisation
 * index gives way to one by account (the table keeps as many indexes), the subscriptions' four
 * per-owner indexes to two by account (one live subscription an account still enforced); the migration
 * reverts cleanly and runs again.
 */
describe('the account reads migration', () => {
  let own: MigrationDatabase;
  let db: pg.Pool;
  const at = MIGRATIONS.indexOf(AccountReads1732007800000);

  beforeAll(async () => {
    own = await MigrationDatabase.create('accounting_account_reads');
    db = own.db;
  });
  afterAll(() => own?.close());

  const indexes = async (table: string) =>
    (
      await db.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY 1`, [table])
    ).rows.map((r) => r.indexname);
  const accountOf = async (column: 'user_id' | 'org_id', owner: string): Promise<string> =>
    (await db.query<{ id: string }>(`SELECT account_id::text AS id FROM accounts WHERE ${column} = $1`, [owner]))
      .rows[0].id;

  it('indexes by account, the same count on usage_records; one live subscription an account; reverts', async () => {
    expect(at).toBeGreaterThan(10);
    await own.migrate(MIGRATIONS.slice(0, at));
    const recordIndexes = await indexes('usage_records');
    expect(recordIndexes).toContain('usage_records_org_time_idx');
    await db.query(`INSERT INTO user_accounts (user_id) VALUES ('r-user'), ('r-member')`);
    await db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ('r-org', 'Org', 'r-member')`);
    await own.migrate(MIGRATIONS);
    const after = await indexes('usage_records');
    expect(after).toContain('usage_records_account_time_idx');
    expect(after).not.toContain('usage_records_org_time_idx');
    expect(after).toHaveLength(recordIndexes.length);
    expect((await indexes('subscriptions')).filter((i) => /_(user|org|account)_/.test(i))).toEqual([
      'subscriptions_account_ended_idx',
      'subscriptions_account_live_idx',
    ]);
    // One live subscription an account, as the per-owner unique indexes kept it.
    await db.query(`INSERT INTO plans (id, name, credits, period, created_by) VALUES ('p', 'P', 10, 'month', 'a')`);
    const org = await accountOf('org_id', 'r-org');
    const subscribe = () =>
      db.query(
        `INSERT INTO subscriptions (org_id, plan_id, starts_at, next_grant_at, created_by, account_id)
         VALUES ('r-org', 'p', now(), now(), 'a', $1)`,
        [org],
      );
    await subscribe();
    await expect(subscribe()).rejects.toThrow(/subscriptions_account_live_idx/);
    await db.query(`DELETE FROM subscriptions`);

    await own.revert(MIGRATIONS.length - at);
    expect(await indexes('usage_records')).toEqual(recordIndexes);
    expect((await indexes('subscriptions')).filter((i) => /_(user|org|account)_/.test(i))).toEqual([
      'subscriptions_org_ended_idx',
      'subscriptions_org_live_idx',
      'subscriptions_user_ended_idx',
      'subscriptions_user_live_idx',
    ]);
    await own.migrate(MIGRATIONS);
    expect(await indexes('usage_records')).toEqual(after);
  }, 240_000);
});
