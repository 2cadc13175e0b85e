import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { createScratchDatabase, type ScratchDatabase } from '../src/database/server/scratch-database.js';

/**
 * A budgeted take reads and counts its budgets' counters by key whatever the tables' statistics say
 * (docs/budgets.md "No overshoot", docs/benchmarks.md "What budgets cost the record"). A connection
 * keeps the plans it makes: planned while the counters' statistics were an empty table's (a database
 * whose budgets are new, before autovacuum's next analyze), the count's UPDATE once scanned every
 * counter at every record, four times the take's whole cost. The counters are the budgets' own rows
 * now (credit_budgets.spent). On a database of its own (the run's shared one has whatever statistics
 * the other specs left), analyzed with no counter counted yet, the takes of one connection are
 * counted by the backend's table statistics not yet flushed (pg_stat_xact_user_tables), the
 * transaction rolled back.
 */
describe("a budgeted take's counters, planned on an empty table's statistics", () => {
  let scratch: ScratchDatabase;
  let db: pg.Client;

  beforeAll(async () => {
    scratch = await createScratchDatabase({ serverUrl: inject('adminDatabaseUrl'), prefix: 'budget_plan' });
    db = new pg.Client({ connectionString: scratch.databaseUrl });
    await db.connect();
    await db.query(
      `INSERT INTO user_accounts (user_id, email, username, role)
       SELECT 'plan-' || g, 'plan-' || g || '@example.com', 'plan-' || g, 'user' FROM generate_series(1, 50) g`,
    );
    await db.query(
      `INSERT INTO credit_allocations (account_id, total_credits, remaining_credits, allocated_by, expires_at, notes)
       SELECT a.account_id, 1000, 1000, 'system', now() + interval '30 days', 'plan' FROM accounts a WHERE a.user_id LIKE 'plan-%'`,
    );
    await db.query(
      `INSERT INTO credit_budgets (budget_id, account_id, scope_kind, scope_id, credit_limit, created_by)
       SELECT 'plan-p-' || a.account_id, a.account_id, 'project', 'p', 1000000, 'test' FROM accounts a WHERE a.user_id LIKE 'plan-%'`,
    );
    await db.query(
      `INSERT INTO credit_budgets (budget_id, account_id, scope_kind, scope_id, parent_budget_id, credit_limit, created_by)
       SELECT 'plan-r-' || a.account_id, a.account_id, 'run', 'r', 'plan-p-' || a.account_id, 1000000, 'test'
         FROM accounts a WHERE a.user_id LIKE 'plan-%'`,
    );
    // the statistics of a database whose budgets have counted nothing yet
    await db.query('ANALYZE');
  }, 120_000);
  afterAll(async () => {
    await db?.end();
    await scratch?.drop();
  });

  it('reads and counts them by key: no scan of the counters, and each budget counted', async () => {
    const { rows: accounts } = await db.query<{ id: string }>(
      `SELECT account_id::text AS id FROM accounts WHERE user_id LIKE 'plan-%' ORDER BY account_id`,
    );
    const take = `SELECT out_status FROM credits_take_events('test', NULL, NULL, NULL, ARRAY[$1::bigint], ARRAY[1],
                    ARRAY[NULL::uuid], ARRAY[NULL::varchar], p_scopes => ARRAY['{"project":"p","run":"r"}'::jsonb])`;
    // Each account's first record inserts its counters, its second updates them; every statement is
    // planned on this connection while the statistics say the table is empty.
    await db.query('BEGIN');
    try {
      for (const round of [1, 2])
        for (const a of accounts) {
          const { rows } = await db.query(take, [a.id]);
          expect(rows, `account ${a.id}, record ${round}`).toEqual([{ out_status: 'ok' }]);
        }
      const { rows: scans } = await db.query<{ rel: string; seq: string; idx: string; upd: string }>(
        `SELECT relname AS rel, seq_scan::text AS seq, idx_scan::text AS idx, n_tup_upd::text AS upd
           FROM pg_stat_xact_user_tables WHERE relname IN ('credit_budgets', 'credit_cap_spend') ORDER BY relname`,
      );
      // the budgets read and counted by key only; no budget counter left in credit_cap_spend
      expect(scans).toEqual([
        { rel: 'credit_budgets', seq: '0', idx: expect.any(String), upd: String(4 * accounts.length) },
        { rel: 'credit_cap_spend', seq: '0', idx: '0', upd: '0' },
      ]);
      expect(Number(scans[0].idx)).toBeGreaterThan(0);
      const { rows: counted } = await db.query<{ n: string; spent: string }>(
        `SELECT count(*)::text AS n, min(spent)::text || '-' || max(spent)::text AS spent
           FROM credit_budgets WHERE budget_id LIKE 'plan-%' AND spent_start = '-infinity'`,
      );
      expect(counted).toEqual([{ n: String(2 * accounts.length), spent: '2-2' }]);
    } finally {
      await db.query('ROLLBACK');
    }
  });
});
