import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { createScratchDatabase, type ScratchDatabase } from '../src/database/server/scratch-database.js';

/**
 * The checks of the rows every record, hold and settlement writes (`credit_ledger`,
 * `credit_allocations`, `usage_records`, `streaming_sessions`) are triggers, not CHECK constraints
 * (migration 1732008207000), so a statement that writes those tables reads no check back
 * (docs/benchmarks.md "The checks every statement reads"). Each refuses what its CHECK refused, as it
 * did (SQLSTATE 23514, the constraint's name, the table), on an insert and on an update that sets one
 * of its columns (an unknown allocation source breaks the plan check, named before the source's own
 * check ever was, which is not kept); a row that breaks none passes; the checks made from the token
 * kinds' list stay CHECKs.
 */
describe('the checks of the rows every movement writes, by trigger', () => {
  let scratch: ScratchDatabase;
  let db: pg.Client;
  let account: string;
  let allocation: string;

  beforeAll(async () => {
    scratch = await createScratchDatabase({ serverUrl: inject('adminDatabaseUrl'), prefix: 'write_checks' });
    db = new pg.Client({ connectionString: scratch.databaseUrl });
    await db.connect();
    await db.query(
      `INSERT INTO user_accounts (user_id, email, username, role) VALUES ('wc-1', 'wc-1@example.com', 'wc-1', 'user')`,
    );
    account = (await db.query<{ id: string }>(`SELECT account_id::text AS id FROM accounts WHERE user_id = 'wc-1'`))
      .rows[0].id;
    allocation = (await insertRow('credit_allocations', {})).rows[0].id;
    await insertRow('credit_ledger', {});
    await insertRow('usage_records', { id: `'00000000-0000-7000-8000-000000000001'` });
    await insertRow('streaming_sessions', {});
  }, 120_000);
  afterAll(async () => {
    await db?.end();
    await scratch?.drop();
  });

  /** A row of the table that breaks no check, with `values` (SQL text) in place of its defaults. */
  const rows: Record<string, () => Record<string, string>> = {
    credit_allocations: () => ({
      account_id: account,
      total_credits: '10',
      remaining_credits: '10',
      allocated_by: `'test'`,
      expires_at: `now() + interval '1 day'`,
      source: `'manual'`,
    }),
    credit_ledger: () => ({
      account_id: account,
      kind: `'grant'`,
      amount: '10',
      balance_after: '10',
      created_by: `'test'`,
      allocation_id: `'${allocation}'`,
    }),
    usage_records: () => ({
      user_id: `'wc-1'`,
      service: `'chat'`,
      operation: `'completion'`,
      credits: '1',
      account_id: account,
    }),
    streaming_sessions: () => ({
      session_id: `'wc-' || gen_random_uuid()`,
      user_id: `'wc-1'`,
      model_id: `'m'`,
      estimated_tokens: '10',
      estimated_credits: '5',
      allocated_credits: '5',
      expires_at: `now() + interval '1 hour'`,
      account_id: account,
    }),
  };
  function insertRow(table: string, values: Record<string, string>) {
    const row = { ...rows[table](), ...values };
    return db.query<{ id: string }>(
      `INSERT INTO ${table} (${Object.keys(row).join(', ')}) VALUES (${Object.values(row).join(', ')})
       RETURNING ${table === 'streaming_sessions' ? 'session_id' : 'id'}::text AS id`,
    );
  }
  const refusal = (query: Promise<unknown>) =>
    query.then(
      () => null,
      (e: pg.DatabaseError) => ({ code: e.code, constraint: e.constraint, table: e.table }),
    );
  const refused = (table: string, constraint: string) => ({ code: '23514', constraint, table });

  // Each case breaks its one check and no other.
  const INSERTS: [table: string, constraint: string, values: Record<string, string>][] = [
    ['credit_ledger', 'credit_ledger_allocation_check', { kind: `'debit'`, amount: '-1', allocation_id: 'NULL' }],
    ['credit_ledger', 'credit_ledger_category_check', { category: `'gifted'` }],
    ['credit_ledger', 'credit_ledger_kind_check', { kind: `'gift'` }],
    ['credit_ledger', 'credit_ledger_sign_check', { amount: '-1' }],
    ['credit_ledger', 'credit_ledger_value_check', { value_minor: '100' }],
    ['credit_allocations', 'credit_allocations_plan_check', { plan_id: `'pro'` }],
    ['credit_allocations', 'credit_allocations_purchase_check', { source: `'purchase'` }],
    ['credit_allocations', 'credit_allocations_remaining_check', { remaining_credits: '11' }],
    ['credit_allocations', 'credit_allocations_total_check', { total_credits: '0', remaining_credits: '0' }],
    [
      'credit_allocations',
      'credit_allocations_value_check',
      { value_minor: '100', value_remaining_minor: '101', currency: `'usd'` },
    ],
    ['usage_records', 'usage_records_billing_status_check', { billing_status: `'unbilled'` }],
    ['usage_records', 'usage_records_provider_cost_check', { provider_cost: '-0.01' }],
    ['usage_records', 'usage_records_provider_usage_check', { usage_source: `'provider'` }],
    ['usage_records', 'usage_records_resolution_check', { resolution: `'forgive'` }],
    ['usage_records', 'usage_records_review_status_check', { review_status: `'closed'` }],
    ['usage_records', 'usage_records_termination_check', { termination: `'timeout'` }],
    ['usage_records', 'usage_records_usage_source_check', { usage_source: `'guessed'` }],
    ['streaming_sessions', 'streaming_sessions_allocated_check', { allocated_credits: '4' }],
    ['streaming_sessions', 'streaming_sessions_expiry_check', { expires_at: `now() - interval '1 second'` }],
    ['streaming_sessions', 'streaming_sessions_record_extras_check', { record_extras: `'[]'` }],
    ['streaming_sessions', 'streaming_sessions_refund_within_hold_check', { refund: '6' }],
    ['streaming_sessions', 'streaming_sessions_settled_check', { settled_at: 'now()' }],
    [
      'streaming_sessions',
      'streaming_sessions_status_check',
      {
        status: `'paused'`,
        settled_at: 'now()',
        actual_credits: '1',
        refund: '0',
        shortfall: '0',
        usage_record_id: `'00000000-0000-7000-8000-000000000001'`,
      },
    ],
  ];

  it('refuses an insert that breaks a check, naming it, and keeps nothing of it', async () => {
    const before = await counts();
    for (const [table, constraint, values] of INSERTS) {
      expect({ constraint, refusal: await refusal(insertRow(table, values)) }).toEqual({
        constraint,
        refusal: refused(table, constraint),
      });
    }
    expect(await counts()).toEqual(before);
    // every check the triggers hold is named once above
    const { rows: named } = await db.query<{ name: string }>(
      `SELECT DISTINCT m[1] AS name
         FROM pg_proc p, regexp_matches(pg_get_functiondef(p.oid), $$check_refused\\('[a-z_]+', '([a-z_]+)'\\)$$, 'g') AS m
        WHERE p.proname = ANY ('{credit_ledger_check,credit_allocations_check,usage_records_check,streaming_sessions_check}')
        ORDER BY 1`,
    );
    expect(named.map((r) => r.name)).toEqual(INSERTS.map(([, constraint]) => constraint).sort());
  });

  it('lets a row that breaks none through, NULLs passing as they did', async () => {
    expect(
      await refusal(insertRow('credit_ledger', { kind: `'debt'`, amount: '-5', allocation_id: 'NULL' })),
    ).toBeNull();
    expect(
      await refusal(insertRow('credit_ledger', { kind: `'correction'`, amount: '-5', category: `'corrected'` })),
    ).toBeNull();
    expect(
      await refusal(
        insertRow('credit_allocations', { value_minor: '100', value_remaining_minor: '100', currency: `'eur'` }),
      ),
    ).toBeNull();
    expect(await refusal(insertRow('usage_records', { provider_cost: 'NULL', termination: 'NULL' }))).toBeNull();
    expect(
      await refusal(
        insertRow('usage_records', { usage_source: `'provider'`, provider_usage: `'{"input_tokens": 1}'` }),
      ),
    ).toBeNull();
    expect(await refusal(insertRow('streaming_sessions', { refund: 'NULL', allocated_credits: '6' }))).toBeNull();
  });

  it('refuses an update that sets a column wrong, and lets one through that sets it right', async () => {
    const update = (table: string, set: string, where: string) =>
      refusal(db.query(`UPDATE ${table} SET ${set} WHERE ${where}`));
    const allocationRow = `id = '${allocation}'`;
    expect(await update('credit_allocations', 'remaining_credits = -1', allocationRow)).toEqual(
      refused('credit_allocations', 'credit_allocations_remaining_check'),
    );
    expect(await update('credit_allocations', `source = 'plan'`, allocationRow)).toEqual(
      refused('credit_allocations', 'credit_allocations_plan_check'),
    );
    expect(await update('credit_allocations', 'remaining_credits = 3', allocationRow)).toBeNull();
    const record = `id = '00000000-0000-7000-8000-000000000001'`;
    expect(await update('usage_records', `billing_status = 'unbilled'`, record)).toEqual(
      refused('usage_records', 'usage_records_billing_status_check'),
    );
    expect(await update('usage_records', `review_status = 'open', billing_status = 'needs_review'`, record)).toBeNull();
    const session = `user_id = 'wc-1' AND status = 'active'`;
    expect(await update('streaming_sessions', `status = 'completed'`, session)).toEqual(
      refused('streaming_sessions', 'streaming_sessions_settled_check'),
    );
    expect(
      await update(
        'streaming_sessions',
        `status = 'completed', settled_at = now(), actual_credits = 4, refund = 1, shortfall = 0,
         usage_record_id = '00000000-0000-7000-8000-000000000001'`,
        `${session} AND allocated_credits = 5`,
      ),
    ).toBeNull();
    const { rows: left } = await db.query(
      `SELECT remaining_credits FROM credit_allocations WHERE ${allocationRow}
        UNION ALL SELECT count(*) FROM streaming_sessions WHERE status = 'completed'`,
    );
    expect(left.map((r) => Number(r.remaining_credits))).toEqual([3, 1]);
  });

  it('keeps the checks made from the token kinds as CHECKs, and no other on those tables', async () => {
    const { rows: checks } = await db.query<{ name: string }>(
      `SELECT conname AS name FROM pg_constraint
        WHERE contype = 'c' AND conrelid::regclass::text = ANY ('{credit_ledger,credit_allocations,usage_records,streaming_sessions}')
        ORDER BY 1`,
    );
    expect(checks.map((r) => r.name)).toEqual([
      'streaming_sessions_counts_check',
      'streaming_sessions_estimate_split_check',
      'usage_records_counts_check',
    ]);
    expect(await refusal(insertRow('usage_records', { input_tokens: '-1' }))).toEqual(
      refused('usage_records', 'usage_records_counts_check'),
    );
  });

  async function counts() {
    const { rows: found } = await db.query(
      `SELECT (SELECT count(*) FROM credit_ledger) AS ledger, (SELECT count(*) FROM credit_allocations) AS allocations,
              (SELECT count(*) FROM usage_records) AS records, (SELECT count(*) FROM streaming_sessions) AS sessions`,
    );
    return found[0];
  }
});
