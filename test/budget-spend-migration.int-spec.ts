import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BudgetSpendOnItsRow1732004100000 } from '../migrations/1732004100000-budget-spend-on-its-row.js';
import { MIGRATIONS } from '../migrations/index.js';
import { MigrationDatabase } from './support/migration-database.js';

/**
 * Migration 1732004100000 moves each budget's counter onto its own row: its newest bucket of
 * credit_cap_spend becomes `spent` and `spent_start` (an older period's bucket counts nothing now, a
 * budget that never counted keeps 0 and no start), the budget buckets leave credit_cap_spend, and
 * the caps of keys and members there stay as they were. It reverts to the same buckets of the period
 * each budget counts, and runs again to the same figures.
 */
describe('the budget spend migration', () => {
  let own: MigrationDatabase;
  let db: pg.Pool;
  const at = MIGRATIONS.indexOf(BudgetSpendOnItsRow1732004100000);

  beforeAll(async () => {
    own = await MigrationDatabase.create('accounting_budget_spend');
    db = own.db;
  });
  afterAll(() => own?.close());

  const counters = async () =>
    (
      await db.query<{ budget_id: string; spent: string; spent_start: string | null }>(
        `SELECT budget_id, spent::text, to_char(spent_start AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS spent_start
           FROM credit_budgets ORDER BY budget_id`,
      )
    ).rows;
  const buckets = async () =>
    (
      await db.query<{ kind: string; subject: string; spent: string }>(
        `SELECT subject_kind AS kind, subject_id AS subject, spent::text FROM credit_cap_spend ORDER BY 1, 2, period_start`,
      )
    ).rows;

  it('moves the newest bucket of each budget onto its row, leaves the other caps, and reverts', async () => {
    expect(at).toBeGreaterThan(10);
    await own.migrate(MIGRATIONS.slice(0, at));
    await db.query(`INSERT INTO user_accounts (user_id) VALUES ('b-user')`);
    const { rows } = await db.query<{ account_id: string }>(`SELECT account_id FROM accounts WHERE user_id = 'b-user'`);
    const account = rows[0].account_id;
    const ids = (
      await db.query<{ id: string }>(
        `INSERT INTO credit_budgets (budget_id, account_id, scope_kind, scope_id, credit_limit, period, created_by)
         VALUES ('b-day', $1, 'project', 'p', 100, 'day', 't'), ('b-life', $1, 'run', 'r', 100, 'lifetime', 't'),
                ('b-none', $1, 'tag', 't', 100, 'day', 't')
         RETURNING id::text`,
        [account],
      )
    ).rows.map((r) => r.id);
    await db.query(
      `INSERT INTO credit_cap_spend (subject_kind, subject_id, account_id, period_start, spent)
       VALUES ('budget', $1, $3, '2026-01-01', 7), ('budget', $1, $3, '2026-01-02', 5),
              ('budget', $2, $3, '-infinity', 12), ('member', 'b-user', $3, '2026-01-02', 3)`,
      [ids[0], ids[1], account],
    );

    await own.migrate(MIGRATIONS);
    const moved = [
      { budget_id: 'b-day', spent: '5', spent_start: '2026-01-02' },
      { budget_id: 'b-life', spent: '12', spent_start: null },
      { budget_id: 'b-none', spent: '0', spent_start: null },
    ];
    expect(await counters()).toEqual(moved);
    const life = await db.query(
      `SELECT spent_start = '-infinity' AS ok FROM credit_budgets WHERE budget_id = 'b-life'`,
    );
    expect(life.rows).toEqual([{ ok: true }]);
    expect(await buckets()).toEqual([{ kind: 'member', subject: 'b-user', spent: '3' }]);
    await expect(
      db.query(`INSERT INTO credit_cap_spend (subject_kind, subject_id, account_id, period_start, spent)
                VALUES ('budget', '1', 0, now(), 1)`),
    ).rejects.toThrow(/credit_cap_spend_subject_kind_check/);
    await expect(db.query(`UPDATE credit_budgets SET spent = -1 WHERE budget_id = 'b-day'`)).rejects.toThrow(
      /credit_budgets_spent_check/,
    );

    // Reverted with every migration after it: the buckets each budget counts now, back in place.
    await own.revert(MIGRATIONS.length - at);
    expect(await buckets()).toEqual([
      { kind: 'budget', subject: ids[0], spent: '5' },
      { kind: 'budget', subject: ids[1], spent: '12' },
      { kind: 'member', subject: 'b-user', spent: '3' },
    ]);
    const columns = await db.query(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'credit_budgets' AND column_name LIKE 'spent%'`,
    );
    expect(columns.rows).toEqual([]);
    await own.migrate(MIGRATIONS);
    expect(await counters()).toEqual(moved);
  }, 240_000);
});
