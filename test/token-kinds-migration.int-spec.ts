import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TokenKinds1732000021000 } from '../migrations/1732000021000-token-kinds.js';
import { MIGRATIONS } from '../migrations/index.js';
import { creditsSql, providerCostSql } from '../src/pricing/pricing.sql.js';
import { MigrationDatabase } from './support/migration-database.js';

/**
 * Migration 1732000021000 keeps every existing rule, record and figure: a database with rules,
 * records (folded into the rollups and still pending) from before token kinds prices, costs and
 * counts the same afterwards, and its rollups count each record's tokens (a single count as input).
 */
describe('the token kinds migration', () => {
  let own: MigrationDatabase;
  let db: pg.Pool;
  const migrate = (migrations: typeof MIGRATIONS) => own.migrate(migrations);

  beforeAll(async () => {
    own = await MigrationDatabase.create('accounting_kinds');
    db = own.db;
  });
  afterAll(() => own?.close());

  it('prices, costs and counts what was there as before', async () => {
    const before = MIGRATIONS.slice(0, MIGRATIONS.indexOf(TokenKinds1732000021000));
    expect(before.length).toBeGreaterThan(10);
    await migrate(before);

    await db.query(`INSERT INTO user_accounts (user_id) VALUES ('old-user')`);
    const {
      rows: [rule],
    } = await db.query(
      `INSERT INTO pricing_rules (model_id, price_per_1k_tokens, output_price_per_1k_tokens, provider_cost_per_1k_tokens,
                                  effective_from, created_by)
       VALUES ('old-model', 2, 5, 0.5, '2024-01-01', 'system') RETURNING id`,
    );
    const insert = (ts: string, credits: number, tokens: number | null, input: number | null, output: number | null) =>
      db.query(
        `INSERT INTO usage_records (user_id, "timestamp", service, operation, credits, model_id, tokens, input_tokens,
                                    output_tokens, pricing_rule_id, provider_cost)
         VALUES ('old-user', $1, 'chat', 'completion', $2, 'old-model', $3, $4, $5, $6, $7)`,
        [ts, credits, tokens, input, output, rule.id, tokens === null ? null : (tokens * 0.0005).toFixed(4)],
      );
    await insert('2025-05-01T10:00:00Z', 2, 1000, null, null); // a single count: input
    await insert('2025-05-01T11:00:00Z', 2, 400, 300, 100);
    await db.query(`SELECT usage_rollup_compact()`);
    await insert('2025-05-01T12:00:00Z', 7, 3000, 2000, 1000);
    await insert('2025-05-02T12:00:00Z', 3, null, null, null);
    await db.query(`SELECT usage_rollup_compact()`);
    const recordsBefore = (await db.query(`SELECT * FROM usage_records ORDER BY "timestamp"`)).rows;
    // Still pending when the migration runs (it folds them first).
    await insert('2025-05-02T13:00:00Z', 1, 10, 10, 0);
    // The figures as the statistics read them: the rollups plus the pending deltas.
    const figures = async () =>
      (
        await db.query(
          `SELECT day::text, service, model_key, sum(records)::int AS records, sum(credits)::int AS credits,
                  sum(provider_cost)::text AS provider_cost
             FROM (SELECT day, service, model_key, records, credits, provider_cost FROM usage_daily_totals
                   UNION ALL SELECT day, service, model_key, records, credits, provider_cost FROM usage_rollup_pending) x
            GROUP BY 1, 2, 3 ORDER BY 1`,
        )
      ).rows;
    const rollupsBefore = await figures();
    expect(rollupsBefore.map((r) => [r.day, r.records, r.credits])).toEqual([
      ['2025-05-01', 3, 11],
      ['2025-05-02', 2, 4],
    ]);

    await migrate(MIGRATIONS);

    // Records: every column they had as it was (later migrations add columns of their own, which
    // their own tests check), the new kinds absent.
    const records = (await db.query(`SELECT * FROM usage_records ORDER BY "timestamp"`)).rows;
    const OLD = Object.keys(recordsBefore[0]);
    const withoutNew = (r: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(r).filter(([k]) => OLD.includes(k)));
    expect(records.slice(0, 4).map(withoutNew)).toEqual(recordsBefore);
    for (const r of records)
      expect([r.cache_read_tokens, r.cache_write_tokens, r.reasoning_tokens]).toEqual([null, null, null]);

    // The rule: new prices NULL (the defaults), so the same tokens cost the same credits and provider cost.
    const kinds = { input: '$1::int', output: '$2::int', cacheRead: '0', cacheWrite: '0', reasoning: '0' };
    const { rows: priced } = await db.query(
      `SELECT (${creditsSql('r', kinds, '1')})::text AS credits, (${providerCostSql('r', kinds)})::text AS cost,
              r.cache_read_price_per_1k_tokens, r.reasoning_price_per_1k_tokens, r.long_context_threshold
         FROM pricing_rules r WHERE r.model_id = 'old-model'`,
      [1500, 700],
    );
    // ceil((1500 × 2 + 700 × 5) / 1000) = ceil(6.5); (1500 + 700) × 0.5 / 1000
    expect(priced).toEqual([
      {
        credits: '7',
        cost: '1.1000000000000', // the same value: price columns hold 10 places since the catalogue
        cache_read_price_per_1k_tokens: null,
        reasoning_price_per_1k_tokens: null,
        long_context_threshold: null,
      },
    ]);

    // Rollups: every figure as it was, and the tokens of each kind counted (a single count as input).
    expect(await figures()).toEqual(rollupsBefore);
    await db.query(`SELECT usage_rollup_compact()`);
    expect(await figures()).toEqual(rollupsBefore);
    const { rows: tokens } = await db.query(
      `SELECT day::text, input_tokens::int, output_tokens::int, cache_read_tokens::int, cache_write_tokens::int,
              reasoning_tokens::int FROM usage_daily_totals ORDER BY day`,
    );
    expect(tokens).toEqual([
      {
        day: '2025-05-01',
        input_tokens: 3300,
        output_tokens: 1100,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
        reasoning_tokens: 0,
      },
      {
        day: '2025-05-02',
        input_tokens: 10,
        output_tokens: 0,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
        reasoning_tokens: 0,
      },
    ]);
  });
});
