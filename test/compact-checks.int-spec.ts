import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { CHECKS } from '../migrations/1732000170000-compact-checks.js';

/**
 * The tables every metered movement writes (a record, a hold, a settlement, a batch; a budget's row
 * when a write names it) keep the lists
 * of their CHECK constraints as one array constant (migration 1732000170000): PostgreSQL reads
 * every check of a table back from its stored text at each statement that writes the table, and an
 * `IN ('a', 'b', …)` list is stored as one cast constant per value. The checks were about a sixth
 * of a take's CPU (docs/benchmarks.md "The checks every statement reads").
 */
const HOT_TABLES = [
  'credit_ledger',
  'credit_allocations',
  'credit_holds',
  'credit_cap_spend',
  'credit_budgets',
  'credit_accounts',
  'usage_records',
  'usage_event_ids',
  'streaming_sessions',
];

describe('the checks of the tables every movement writes', () => {
  const db = new pg.Client({ connectionString: inject('databaseUrl') });
  beforeAll(() => db.connect());
  afterAll(() => db.end());

  it('hold their lists as one constant, not one per value', async () => {
    const { rows } = await db.query<{ table: string; name: string; definition: string }>(
      `SELECT c.conrelid::regclass::text AS table, c.conname AS name, pg_get_constraintdef(c.oid) AS definition
         FROM pg_constraint c
        WHERE c.contype = 'c' AND c.conrelid::regclass::text = ANY ($1)`,
      [HOT_TABLES],
    );
    // lists of these tables are there, so the filter below is looking at the right rows (the ledger's
    // and the usage records' lists have since moved to their tables' check triggers, migration
    // 1732008207000: test/write-checks.int-spec.ts)
    expect(rows.map((r) => r.name)).toEqual(
      expect.arrayContaining(['credit_cap_spend_subject_kind_check', 'usage_records_counts_check']),
    );
    expect(rows.filter((r) => r.definition.includes('ARRAY['))).toEqual([]);
  });

  it('mean what they meant: each rewritten check answers as before on every value, NULL included', async () => {
    // Each column's values: every listed one, one that is not listed, NULL (text); -1, 0, 1 and NULL
    // (numbers); NULL and a value (references). A check is evaluated on every combination of its
    // columns' values, written before and after.
    const listed = (before: string, column: string) =>
      [...before.matchAll(new RegExp(`${column} (?:NOT )?IN \\(([^)]*)\\)`, 'g'))].flatMap((m) =>
        m[1].split(',').map((v) => v.trim().replace(/^'|'$/g, '')),
      );
    const domains: Record<string, string> = {
      amount: `unnest(ARRAY[-1, 0, 1, NULL]::int[])`,
      allocation_id: `unnest(ARRAY[NULL, gen_random_uuid()]::uuid[])`,
      subscription_id: `unnest(ARRAY[NULL, gen_random_uuid()]::uuid[])`,
      plan_id: `unnest(ARRAY[NULL, 'pro']::varchar[])`,
      period_start: `unnest(ARRAY[NULL, now()]::timestamptz[])`,
    };
    let combinations = 0;
    for (const check of CHECKS) {
      const columns = [
        ...new Set([...check.before.matchAll(/\b([a-z_]+) (?:NOT )?IN \(/g)].map((m) => m[1])),
        ...Object.keys(domains).filter((c) => new RegExp(`\\b${c}\\b`).test(check.before)),
      ];
      const from = columns
        .map((c) => {
          const values =
            domains[c] ??
            `unnest(ARRAY[${[...new Set(listed(check.before, c)), 'not_listed'].map((v) => `'${v}'`).join(', ')}, NULL]::varchar[])`;
          return `${values} AS ${c}_v(${c})`;
        })
        .join(' CROSS JOIN ');
      const { rows } = await db.query<{ all: string; differ: string }>(
        `SELECT count(*) AS all, count(*) FILTER (WHERE (${check.before}) IS DISTINCT FROM (${check.after})) AS differ FROM ${from}`,
      );
      expect({ check: check.name, differ: Number(rows[0].differ) }).toEqual({ check: check.name, differ: 0 });
      combinations += Number(rows[0].all);
    }
    // 13 checks over 176 combinations in all (the ledger's kind alone: 15 kinds, one unknown, NULL)
    expect(combinations).toBe(176);
  });
});
