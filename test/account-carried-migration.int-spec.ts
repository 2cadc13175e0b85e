import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AccountCarried1732002400000 } from '../migrations/1732002400000-account-carried.js';
import { MIGRATIONS } from '../migrations/index.js';
import { MigrationDatabase } from './support/migration-database.js';

/**
 * Migration 1732002400000 gives every existing usage record and streaming session the account that
 * paid: the organisation's for an organisation's use, else the user's; an owner without an account
 * gets one first. The column is then required and points at `accounts`; the migration reverts
 * cleanly and runs again to the same figures.
 */
describe('the account carried migration', () => {
  let own: MigrationDatabase;
  let db: pg.Pool;
  const at = MIGRATIONS.indexOf(AccountCarried1732002400000);

  beforeAll(async () => {
    own = await MigrationDatabase.create('accounting_carried');
    db = own.db;
  });
  afterAll(() => own?.close());

  const accountOf = async (column: 'user_id' | 'org_id', owner: string): Promise<string> =>
    (await db.query<{ account_id: string }>(`SELECT account_id FROM accounts WHERE ${column} = $1`, [owner])).rows[0]
      .account_id;
  const carried = async () =>
    (
      await db.query<{ t: string; user_id: string; account_id: string }>(
        `SELECT 'record' AS t, user_id, account_id FROM usage_records
         UNION ALL SELECT 'session', user_id, account_id FROM streaming_sessions ORDER BY 1, 2`,
      )
    ).rows;

  it('fills the paying account of records and sessions, requires it, and reverts', async () => {
    expect(at).toBeGreaterThan(10);
    await own.migrate(MIGRATIONS.slice(0, at));
    await db.query(`INSERT INTO user_accounts (user_id) VALUES ('c-user'), ('c-member'), ('c-orphan')`);
    await db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ('c-org', 'Org', 'c-member')`);
    // An owner whose account row is missing (rows older than accounts): the migration opens it.
    await db.query(`DELETE FROM accounts WHERE user_id = 'c-orphan'`);
    await db.query(
      `INSERT INTO usage_records (user_id, org_id, service, operation, credits)
       VALUES ('c-user', NULL, 'chat', 'own', 1), ('c-member', 'c-org', 'chat', 'org', 2),
              ('c-orphan', NULL, 'chat', 'orphan', 3)`,
    );
    await db.query(
      `INSERT INTO streaming_sessions (session_id, user_id, org_id, model_id, estimated_tokens, estimated_credits,
                                       allocated_credits, expires_at)
       VALUES ('s-1', 'c-user', NULL, 'm', 10, 1, 1, now() + interval '1 hour'),
              ('s-2', 'c-member', 'c-org', 'm', 10, 1, 1, now() + interval '1 hour')`,
    );

    await own.migrate(MIGRATIONS);
    const user = await accountOf('user_id', 'c-user');
    const org = await accountOf('org_id', 'c-org');
    const orphan = await accountOf('user_id', 'c-orphan');
    const expected = [
      { t: 'record', user_id: 'c-member', account_id: org },
      { t: 'record', user_id: 'c-orphan', account_id: orphan },
      { t: 'record', user_id: 'c-user', account_id: user },
      { t: 'session', user_id: 'c-member', account_id: org },
      { t: 'session', user_id: 'c-user', account_id: user },
    ];
    expect(await carried()).toEqual(expected);
    await expect(
      db.query(`INSERT INTO usage_records (user_id, service, operation, credits) VALUES ('c-user', 'chat', 'x', 0)`),
    ).rejects.toThrow(/account_id/);
    // The key that refuses an account that is not there is the user's pair's (migration 1732008000000).
    await expect(db.query(`UPDATE usage_records SET account_id = -1 WHERE user_id = 'c-user'`)).rejects.toThrow(
      /usage_records_account_user_fkey/,
    );

    // Reverted with every migration after it, then run again: the same accounts.
    await own.revert(MIGRATIONS.length - at);
    const columns = await db.query(
      `SELECT table_name FROM information_schema.columns
        WHERE table_name IN ('usage_records', 'streaming_sessions') AND column_name = 'account_id'`,
    );
    expect(columns.rows).toEqual([]);
    await own.migrate(MIGRATIONS);
    expect(await carried()).toEqual(expected);
  }, 240_000);
});
