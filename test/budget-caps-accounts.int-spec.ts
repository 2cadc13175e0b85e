import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { createScratchDatabase, type ScratchDatabase } from '../src/database/server/scratch-database.js';

/**
 * A take reads its events' budgets by the account ids its caller passed (docs/budgets.md): an event
 * whose account id is unknown or NULL is refused `no_account` and reads and counts no budget, while
 * the batch's other events count against theirs as a batch of its own would, and a record whose scopes
 * name no budget of its account counts nothing.
 */
describe("a take's budgets, read by its events' account ids", () => {
  let scratch: ScratchDatabase;
  let db: pg.Client;
  let account: string;

  beforeAll(async () => {
    scratch = await createScratchDatabase({ serverUrl: inject('adminDatabaseUrl'), prefix: 'budget_accounts' });
    db = new pg.Client({ connectionString: scratch.databaseUrl });
    await db.connect();
    await db.query(
      `INSERT INTO user_accounts (user_id, email, username, role) VALUES ('caps-1', 'caps-1@example.com', 'caps-1', 'user')`,
    );
    account = (await db.query<{ id: string }>(`SELECT account_id::text AS id FROM accounts WHERE user_id = 'caps-1'`))
      .rows[0].id;
    await db.query(
      `INSERT INTO credit_allocations (account_id, total_credits, remaining_credits, allocated_by, expires_at, notes)
       VALUES ($1, 1000, 1000, 'system', now() + interval '30 days', 'caps')`,
      [account],
    );
    await db.query(
      `INSERT INTO credit_budgets (budget_id, account_id, scope_kind, scope_id, credit_limit, created_by)
       VALUES ('caps-p', $1, 'project', 'p', 10, 'test')`,
      [account],
    );
    await db.query(
      `INSERT INTO credit_budgets (budget_id, account_id, scope_kind, scope_id, parent_budget_id, credit_limit, created_by)
       VALUES ('caps-r', $1, 'run', 'r', 'caps-p', 8, 'test')`,
      [account],
    );
  }, 120_000);
  afterAll(async () => {
    await db?.end();
    await scratch?.drop();
  });

  const take = (accounts: (string | null)[], amounts: number[], scopes: (string | null)[]) =>
    db.query<{ s: string; parts: unknown }>(
      `SELECT out_status AS s, out_parts AS parts
         FROM credits_take_events('test', NULL, NULL, NULL, $1::bigint[], $2::int[],
                                  array_fill(NULL::uuid, ARRAY[cardinality($2::int[])]),
                                  array_fill(NULL::varchar, ARRAY[cardinality($2::int[])]), p_scopes => $3::jsonb[])
        ORDER BY out_ord`,
      [accounts, amounts, scopes],
    );
  const spent = async () =>
    (
      await db.query<{ b: string; spent: string }>(
        `SELECT budget_id AS b, spent::text FROM credit_budgets WHERE budget_id LIKE 'caps-%' ORDER BY budget_id`,
      )
    ).rows;

  it('refuses an unknown or missing account, and counts the known ones against their chain', async () => {
    await db.query('BEGIN');
    try {
      const both = '{"project":"p","run":"r"}';
      const { rows } = await take(['999999999', account, null, account], [3, 3, 3, 6], [both, both, both, both]);
      expect(rows.map((r) => r.s)).toEqual(['no_account', 'ok', 'no_account', 'budget_exceeded']);
      // the run's 8: 3 used, 6 more would pass it
      expect(rows[3].parts).toEqual({ budgetId: 'caps-r', limit: 8, used: 3, held: 0 });
      expect(await spent()).toEqual([
        { b: 'caps-p', spent: '3' },
        { b: 'caps-r', spent: '3' },
      ]);
      // scopes that name no budget of the account: recorded only, nothing counted
      const none = await take([account], [2], ['{"project":"other","run":"r2"}']);
      expect(none.rows.map((r) => r.s)).toEqual(['ok']);
      expect(await spent()).toEqual([
        { b: 'caps-p', spent: '3' },
        { b: 'caps-r', spent: '3' },
      ]);
    } finally {
      await db.query('ROLLBACK');
    }
  });
});
