import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { SHORTER_CHECKS } from '../migrations/1732004800000-shorter-hot-checks.js';

/**
 * Three checks of the tables the streaming pair and every take write, said in fewer nodes (migration
 * 1732004800000): PostgreSQL reads each check's stored tree back at every statement that writes its
 * table (docs/benchmarks.md "The checks every statement reads").
 */

/** Each column's values: NULL only where the column may hold it. */
const DOMAINS: Record<string, string> = {
  status: `unnest(ARRAY['active', 'completed', 'failed', 'aborted', 'expired', 'other']::varchar[])`,
  settled_at: `unnest(ARRAY[NULL, now()]::timestamptz[])`,
  actual_credits: `unnest(ARRAY[NULL, 0, 1]::int[])`,
  refund: `unnest(ARRAY[NULL, 0, 1]::int[])`,
  shortfall: `unnest(ARRAY[NULL, 0]::int[])`,
  usage_record_id: `unnest(ARRAY[NULL, gen_random_uuid()]::uuid[])`,
  estimated_tokens: `unnest(ARRAY[0, 1, 2, 3, 5]::int[])`,
  estimated_input_tokens: `unnest(ARRAY[NULL, 0, 1, 2]::int[])`,
  estimated_output_tokens: `unnest(ARRAY[NULL, 0, 1, 2]::int[])`,
  estimated_cache_read_tokens: `unnest(ARRAY[NULL, 0, 1]::int[])`,
  estimated_cache_write_tokens: `unnest(ARRAY[NULL, 0, 1]::int[])`,
  estimated_reasoning_tokens: `unnest(ARRAY[NULL, 0, 1]::int[])`,
  kind: `unnest(ARRAY['grant', 'debit', 'hold', 'release', 'expire', 'void', 'rollover', 'repay', 'overdraft', 'transfer_out',
                      'transfer_in', 'refund', 'debt', 'freeze', 'unfreeze', 'correction', 'volume_adjustment', 'other']::varchar[])`,
  amount: `unnest(ARRAY[-1, 0, 1]::int[])`,
};

describe('the shorter checks of the tables the streaming pair writes', () => {
  const db = new pg.Client({ connectionString: inject('databaseUrl') });
  beforeAll(() => db.connect());
  afterAll(() => db.end());

  it('accept exactly the rows they accepted, on every combination of their columns', async () => {
    let combinations = 0;
    for (const check of SHORTER_CHECKS) {
      const columns = Object.keys(DOMAINS).filter((c) => new RegExp(`\\b${c}\\b`).test(check.before));
      const from = columns.map((c) => `${DOMAINS[c]} AS ${c}_v(${c})`).join(' CROSS JOIN ');
      // A CHECK passes on true and on NULL.
      const { rows } = await db.query<{ all: string; differ: string; passing: string }>(
        `SELECT count(*) AS all, count(*) FILTER (WHERE (${check.before}) IS NOT FALSE) AS passing,
                count(*) FILTER (WHERE ((${check.before}) IS NOT FALSE) <> ((${check.after}) IS NOT FALSE)) AS differ
           FROM ${from}`,
      );
      expect({ check: check.name, differ: Number(rows[0].differ) }).toEqual({ check: check.name, differ: 0 });
      // each check both passes and refuses some of its combinations
      expect(Number(rows[0].passing)).toBeGreaterThan(0);
      expect(Number(rows[0].passing)).toBeLessThan(Number(rows[0].all));
      combinations += Number(rows[0].all);
    }
    // settled: 6 × 2 × 3 × 3 × 2 × 2; the split: 5 × 4 × 4 × 3 × 3 × 3; the sign: 18 × 3
    expect(combinations).toBe(432 + 2160 + 54);
  });

  it('are the stored ones, each a shorter tree than before', async () => {
    // Those since moved to their table's check trigger (migration 1732008207000; refusing as they did:
    // test/write-checks.int-spec.ts) are its test in their shorter form, under their name.
    const bare = (text: string) => text.replace(/NEW\./g, '').replace(/[\s()]/g, '');
    for (const check of SHORTER_CHECKS) {
      const stored = await db.query(`SELECT 1 FROM pg_constraint WHERE conrelid = $1::regclass AND conname = $2`, [
        check.table,
        check.name,
      ]);
      if (stored.rowCount === 0) {
        const { rows } = await db.query<{ definition: string }>(
          `SELECT pg_get_functiondef($1::regproc) AS definition`,
          [`${check.table}_check`],
        );
        expect(rows[0].definition).toContain(`check_refused('${check.table}', '${check.name}')`);
        expect(bare(rows[0].definition)).toContain(bare(check.after));
        expect(bare(rows[0].definition)).not.toContain(bare(check.before));
        continue;
      }
      // the forms as PostgreSQL stores them, on an empty copy of the table's columns (no lock on it)
      await db.query('BEGIN');
      try {
        await db.query(`CREATE TEMP TABLE shape (LIKE ${check.table}) ON COMMIT DROP`);
        await db.query(
          `ALTER TABLE shape ADD CONSTRAINT before CHECK (${check.before}), ADD CONSTRAINT after CHECK (${check.after})`,
        );
        const { rows } = await db.query<{ name: string; definition: string; size: number }>(
          `SELECT c.conname AS name, pg_get_constraintdef(c.oid) AS definition, length(c.conbin::text) AS size
             FROM pg_constraint c
            WHERE (c.conrelid = 'shape'::regclass AND c.conname IN ('before', 'after'))
               OR (c.conrelid = $1::regclass AND c.conname = $2)`,
          [check.table, check.name],
        );
        const of = (name: string) => rows.find((r) => r.name === name)!;
        expect(of(check.name).definition).toBe(of('after').definition);
        expect(of('after').size).toBeLessThan(of('before').size * 0.8);
      } finally {
        await db.query('ROLLBACK');
      }
    }
  });
});
