import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AccountPricesAccount1732007600000 } from '../migrations/1732007600000-account-prices-account.js';
import { MIGRATIONS } from '../migrations/index.js';
import { MigrationDatabase } from './support/migration-database.js';

/**
 * Migration 1732007600000 gives every account price its account (`account_prices.account_id`), filled
 * from its owner: a user's price the user's account, an org's the org's, though their ids are equal;
 * from then on a row whose owner is not its account's is refused. Down drops the column and the keys
 * on `accounts` it needed.
 */
describe('the account prices account migration', () => {
  let own: MigrationDatabase;
  let db: pg.Pool;

  beforeAll(async () => {
    own = await MigrationDatabase.create('accounting_apa');
    db = own.db;
  });
  afterAll(() => own?.close());

  const prices = async () =>
    (
      await db.query(
        `SELECT p.model_id, a.kind, COALESCE(a.user_id, a.org_id) AS owner, p.user_id, p.org_id
           FROM account_prices p JOIN accounts a ON a.account_id = p.account_id
          ORDER BY p.model_id`,
      )
    ).rows;
  const insert = (columns: string, values: string) =>
    db.query(
      `INSERT INTO account_prices (${columns}, model_id, discount_percent, effective_from, created_by) VALUES (${values})`,
    );

  it('fills each price with its owner’s account, refuses a mismatch, and goes down and up again', async () => {
    const at = MIGRATIONS.indexOf(AccountPricesAccount1732007600000);
    await own.migrate(MIGRATIONS.slice(0, at));
    // A user and an organisation of the same id: each price belongs to its own owner's account.
    await db.query(`INSERT INTO user_accounts (user_id) VALUES ('acme'), ('bob')`);
    await db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ('acme', 'Acme', 'admin')`);
    await insert('user_id', `'acme', 'a.*', 10, now(), 'admin'`);
    await insert('org_id', `'acme', 'b.*', 20, now(), 'admin'`);
    await insert('user_id', `'bob', 'c.*', 30, now(), 'admin'`);

    await own.migrate(MIGRATIONS);
    const filled = [
      { model_id: 'a.*', kind: 'user', owner: 'acme', user_id: 'acme', org_id: null },
      { model_id: 'b.*', kind: 'org', owner: 'acme', user_id: null, org_id: 'acme' },
      { model_id: 'c.*', kind: 'user', owner: 'bob', user_id: 'bob', org_id: null },
    ];
    expect(await prices()).toEqual(filled);
    const account = (column: 'user_id' | 'org_id', id: string) =>
      `(SELECT account_id FROM accounts WHERE ${column} = '${id}')`;
    // Another owner's account, of either kind, or none: refused.
    const refused = (columns: string, values: string) =>
      insert(columns, values).then(
        () => null,
        (error: { code?: string; constraint?: string }) => ({ code: error.code, constraint: error.constraint }),
      );
    expect(
      await refused('account_id, user_id', `${account('user_id', 'bob')}, 'acme', 'd.*', 1, now(), 'admin'`),
    ).toEqual({ code: '23503', constraint: 'account_prices_account_user_fkey' });
    expect(
      await refused('account_id, org_id', `${account('user_id', 'acme')}, 'acme', 'd.*', 1, now(), 'admin'`),
    ).toEqual({
      code: '23503',
      constraint: 'account_prices_account_org_fkey',
    });
    expect(await refused('user_id', `'bob', 'd.*', 1, now(), 'admin'`)).toMatchObject({ code: '23502' });
    await insert('account_id, org_id', `${account('org_id', 'acme')}, 'acme', 'd.*', 1, now(), 'admin'`);

    await own.revert(MIGRATIONS.length - at);
    const column = await db.query(
      `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'account_prices' AND column_name = 'account_id'`,
    );
    expect(column.rows[0].n).toBe(0);
    const keys = await db.query(
      `SELECT count(*)::int AS n FROM pg_constraint WHERE conname LIKE 'accounts_account_id_%_key'`,
    );
    expect(keys.rows[0].n).toBe(0);

    await own.migrate(MIGRATIONS);
    expect(await prices()).toEqual([
      ...filled,
      { model_id: 'd.*', kind: 'org', owner: 'acme', user_id: null, org_id: 'acme' },
    ]);
  });
});
