import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { createScratchDatabase, type ScratchDatabase } from '../src/database/server/scratch-database.js';

/**
 * A budget's scope kind, period and limit are checked by the trigger credit_budgets_check (migration
 * 1732004430000), not by CHECK constraints, so the take's UPDATE of the counters reads no check
 * (docs/benchmarks.md "What budgets cost the record"). It refuses what the checks refused, as they
 * did (SQLSTATE 23514, the constraint's name), on an insert and on an update of those columns; the
 * counter keeps its own CHECK.
 */
describe("a budget's settings, checked by a trigger", () => {
  let scratch: ScratchDatabase;
  let db: pg.Client;
  let account: string;

  beforeAll(async () => {
    scratch = await createScratchDatabase({ serverUrl: inject('adminDatabaseUrl'), prefix: 'budget_check' });
    db = new pg.Client({ connectionString: scratch.databaseUrl });
    await db.connect();
    await db.query(
      `INSERT INTO user_accounts (user_id, email, username, role) VALUES ('check-1', 'check-1@example.com', 'check-1', 'user')`,
    );
    account = (await db.query<{ id: string }>(`SELECT account_id::text AS id FROM accounts WHERE user_id = 'check-1'`))
      .rows[0].id;
    await db.query(
      `INSERT INTO credit_budgets (budget_id, account_id, scope_kind, scope_id, credit_limit, period, created_by)
       VALUES ('check-ok', $1, 'project', 'p', 100, 'month', 'test')`,
      [account],
    );
  }, 120_000);
  afterAll(async () => {
    await db?.end();
    await scratch?.drop();
  });

  const refusal = async (sql: string, values: unknown[]) => {
    const error = await db.query(sql, values).then(
      () => null,
      (e: pg.DatabaseError) => e,
    );
    return error && { code: error.code, constraint: error.constraint, table: error.table };
  };
  const insert = (kind: string, period: string, limit: number) =>
    refusal(
      `INSERT INTO credit_budgets (budget_id, account_id, scope_kind, scope_id, credit_limit, period, created_by)
       VALUES ('check-new', $1, $2, 'x', $3, $4, 'test')`,
      [account, kind, limit, period],
    );
  const refused = (constraint: string) => ({ code: '23514', constraint, table: 'credit_budgets' });

  it('refuses an insert of an unknown kind or period, or a negative limit', async () => {
    expect(await insert('folder', 'month', 1)).toEqual(refused('credit_budgets_scope_kind_check'));
    expect(await insert('run', 'year', 1)).toEqual(refused('credit_budgets_period_check'));
    expect(await insert('run', 'day', -1)).toEqual(refused('credit_budgets_credit_limit_check'));
    expect(await db.query(`SELECT 1 FROM credit_budgets WHERE budget_id = 'check-new'`)).toMatchObject({ rowCount: 0 });
  });

  it('refuses an update that sets one wrong, and lets the counter and a good limit through', async () => {
    const update = (set: string) => refusal(`UPDATE credit_budgets SET ${set} WHERE budget_id = 'check-ok'`, []);
    expect(await update(`scope_kind = 'folder'`)).toEqual(refused('credit_budgets_scope_kind_check'));
    expect(await update(`period = 'year'`)).toEqual(refused('credit_budgets_period_check'));
    expect(await update(`credit_limit = -5`)).toEqual(refused('credit_budgets_credit_limit_check'));
    expect(await update(`spent = -1`)).toEqual(refused('credit_budgets_spent_check'));
    expect(await update(`spent = 7, spent_start = '-infinity'`)).toBeNull();
    expect(await update(`credit_limit = 0`)).toBeNull();
    const { rows } = await db.query(
      `SELECT scope_kind, period, credit_limit::text AS limit, spent::text AS spent FROM credit_budgets WHERE budget_id = 'check-ok'`,
    );
    expect(rows).toEqual([{ scope_kind: 'project', period: 'month', limit: '0', spent: '7' }]);
  });
});
