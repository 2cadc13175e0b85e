import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { COUNTS_CHECKS, countsCheck } from '../migrations/1732004900000-counts-checks.js';

/**
 * The `x >= 0` checks of the rows every record and streaming pair write, one check a table (migration
 * 1732004900000): PostgreSQL reads each check's stored tree back at every statement that writes its
 * table (docs/benchmarks.md "The checks every statement reads").
 */
describe('the counts checks of the tables every record and pair write', () => {
  const db = new pg.Client({ connectionString: inject('databaseUrl') });
  beforeAll(() => db.connect());
  afterAll(() => db.end());

  it('accept exactly the rows their separate checks accepted, on every combination of NULL, -1, 0 and 1', async () => {
    for (const { name, columns } of COUNTS_CHECKS) {
      // Every combination of four values over up to eight columns; past eight, of three (NULL, -1, 1).
      const values = `unnest(ARRAY[NULL, -1, 0, 1]::int[])`;
      const from =
        columns.length <= 8
          ? columns.map((c) => `${values} AS ${c.column}_v(${c.column})`).join(' CROSS JOIN ')
          : columns
              .map((c, i) =>
                i < 8
                  ? `${values} AS ${c.column}_v(${c.column})`
                  : `unnest(ARRAY[NULL, -1, 1]::int[]) AS ${c.column}_v(${c.column})`,
              )
              .join(' CROSS JOIN ');
      // A CHECK passes on true and on NULL: the row passed when each separate check did.
      const separate = columns.map((c) => `(${c.column} >= 0) IS NOT FALSE`).join(' AND ');
      const { rows } = await db.query<{ all: string; differ: string; passing: string }>(
        `SELECT count(*) AS all, count(*) FILTER (WHERE ${separate}) AS passing,
                count(*) FILTER (WHERE (${separate}) <> ((${countsCheck(columns)}) IS NOT FALSE)) AS differ
           FROM ${from}`,
      );
      expect({ name, differ: Number(rows[0].differ) }).toEqual({ name, differ: 0 });
      expect(Number(rows[0].passing)).toBeGreaterThan(0);
      expect(Number(rows[0].passing)).toBeLessThan(Number(rows[0].all));
    }
  });

  it('are the stored ones, in place of the separate checks, each table’s tree shorter', async () => {
    for (const { table, name, columns } of COUNTS_CHECKS) {
      const { rows } = await db.query<{ name: string; definition: string; size: number }>(
        `SELECT conname AS name, pg_get_constraintdef(oid) AS definition, length(conbin::text) AS size
           FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'c'`,
        [table],
      );
      const names = rows.map((r) => r.name);
      expect(names).toContain(name);
      for (const c of columns) expect(names).not.toContain(c.check);
      expect(rows.find((r) => r.name === name)!.definition).toBe(`CHECK ((${countsCheck(columns)}))`);
      // 385 characters a separate `x >= 0` of an integer column
      expect(rows.find((r) => r.name === name)!.size).toBeLessThan(columns.length * 385 * 0.8);
    }
  });
});
