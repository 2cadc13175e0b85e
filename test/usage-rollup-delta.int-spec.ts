import { randomBytes } from 'node:crypto';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/**
 * The one rollup rule (usage_rollup_delta(), run by every statement trigger on usage_records): after
 * any mix of inserts (one row and many), updates (of counted columns, of the day, of the model key)
 * and deletes, what the rollups hold for a service (the pending deltas plus what the compaction has
 * folded) is what its live records add up to, per day and model key. A record counts on the UTC day it occurred (occurred_at, which a row
 * inserted by hand without one takes from its timestamp).
 */
describe('usage rollup triggers', () => {
  const db = new pg.Client({ connectionString: inject('databaseUrl') });
  const tag = randomBytes(4).toString('hex');
  const user = `rollup-${tag}`;
  const service = `rollup-${tag}`;

  beforeAll(async () => {
    await db.connect();
    await db.query(`INSERT INTO user_accounts (user_id, email, username, role) VALUES ($1, $2, $1, 'user')`, [
      user,
      `${user}@example.com`,
    ]);
  });
  afterAll(() => db.end());

  /** Per day and model key: the live records' sums, and the rollups' (pending + folded totals). */
  const sides = async () => {
    const sums = `count(*)::bigint AS records, sum(credits)::bigint AS credits, sum(provider_cost)::numeric AS provider_cost,
                  sum(input)::bigint AS input, sum(output)::bigint AS output, sum(cache_read)::bigint AS cache_read,
                  sum(cache_write)::bigint AS cache_write, sum(reasoning)::bigint AS reasoning`;
    const live = await db.query(
      `SELECT day, model_key, ${sums} FROM (
         SELECT (occurred_at AT TIME ZONE 'UTC')::date AS day,
                COALESCE(model_id, CASE WHEN service IN ('chat', 'chat-streaming') THEN operation END, '') AS model_key,
                credits, provider_cost, COALESCE(input_tokens, tokens, 0) AS input, COALESCE(output_tokens, 0) AS output,
                COALESCE(cache_read_tokens, 0) AS cache_read, COALESCE(cache_write_tokens, 0) AS cache_write,
                COALESCE(reasoning_tokens, 0) AS reasoning
           FROM usage_records WHERE service = $1) r
        GROUP BY 1, 2 ORDER BY 1, 2`,
      [service],
    );
    const rolled = await db.query(
      `SELECT day, model_key, sum(records)::bigint AS records, sum(credits)::bigint AS credits,
              sum(provider_cost)::numeric AS provider_cost, sum(input_tokens)::bigint AS input,
              sum(output_tokens)::bigint AS output, sum(cache_read_tokens)::bigint AS cache_read,
              sum(cache_write_tokens)::bigint AS cache_write, sum(reasoning_tokens)::bigint AS reasoning
         FROM (SELECT day, model_key, records, credits, provider_cost, input_tokens, output_tokens, cache_read_tokens,
                      cache_write_tokens, reasoning_tokens FROM usage_rollup_pending WHERE service = $1
               UNION ALL
               SELECT day, model_key, records, credits, provider_cost, input_tokens, output_tokens, cache_read_tokens,
                      cache_write_tokens, reasoning_tokens FROM usage_daily_totals WHERE service = $1) x
        GROUP BY 1, 2 HAVING sum(records) <> 0 ORDER BY 1, 2`,
      [service],
    );
    return { live: live.rows, rolled: rolled.rows };
  };

  const insert = (rows: string) =>
    db.query(
      `INSERT INTO usage_records (id, user_id, "timestamp", service, operation, credits, model_id, tokens, input_tokens,
                                  output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, provider_cost, account_id)
       SELECT gen_random_uuid(), $1, t, $2, op, c, m, tk, i, o, cr, cw, rs, pc, (SELECT account_id FROM accounts WHERE user_id = $1::varchar)
         FROM (VALUES ${rows}) v(t, op, c, m, tk, i, o, cr, cw, rs, pc)`,
      [user, service],
    );

  it('inserts, updates and deletes of records leave the rollups equal to the records', async () => {
    // One row, then many in one statement (two of one group), across two days and model keys.
    await insert(`('2026-11-20 10:00Z'::timestamptz, 'op', 5, 'm1', NULL::int, 10, 20, 3, 4, 5, 0.25::numeric)`);
    await insert(`('2026-11-20 11:00Z'::timestamptz, 'op', 7, 'm1', NULL::int, 1, 2, NULL::int, NULL::int, NULL::int, NULL::numeric),
                  ('2026-11-20 12:00Z', 'op', 3, 'm1', 30, NULL, NULL, NULL, NULL, NULL, 1.5),
                  ('2026-11-21 00:30Z', 'op', 11, NULL, 8, NULL, NULL, NULL, NULL, NULL, NULL)`);
    expect((await sides()).rolled).toEqual((await sides()).live);
    expect((await sides()).live).toHaveLength(2);

    // The compaction folds part of it; later changes still add up.
    await db.query(`SELECT usage_rollup_compact()`);
    // An update of counted columns, of the day and of the model key (both halves of the update count).
    await db.query(
      `UPDATE usage_records SET credits = credits + 100, output_tokens = 9 WHERE service = $1 AND credits = 5`,
      [service],
    );
    await db.query(
      `UPDATE usage_records SET occurred_at = '2026-11-22 09:00Z', model_id = 'm2' WHERE service = $1 AND credits = 7`,
      [service],
    );
    await db.query(`DELETE FROM usage_records WHERE service = $1 AND credits = 3`, [service]);
    const after = await sides();
    expect(after.rolled).toEqual(after.live);
    expect(after.live.map((r) => [r.model_key, r.records, r.credits])).toEqual([
      ['m1', '1', '105'],
      ['', '1', '11'],
      ['m2', '1', '7'],
    ]);

    await db.query(`DELETE FROM usage_records WHERE service = $1`, [service]);
    expect((await sides()).rolled).toEqual([]);
  });
});
