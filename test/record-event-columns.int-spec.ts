import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { RECORD_EVENT_COLUMNS } from '../src/usage/record-batch-parts.js';

/**
 * The record statements read each event's fields by RECORD_EVENT_COLUMNS, a column list of their
 * own instead of the `usage_records` row type (docs/benchmarks.md "The record alone, counted"). Each
 * must be its column's own type, typmod included: a value is then read and checked as the table
 * would take it (a `varchar(50)` too long fails as before, a `numeric(24,8)` rounds as before), and a
 * column that is widened or retyped fails here until the list follows.
 */
describe("the record statements' event columns", () => {
  const db = new pg.Client({ connectionString: inject('databaseUrl') });
  beforeAll(() => db.connect());
  afterAll(() => db.end());

  it('are usage_records columns, each of its own type', async () => {
    await db.query('BEGIN');
    try {
      await db.query(
        `CREATE TEMP TABLE record_event_columns ON COMMIT DROP AS
           SELECT * FROM jsonb_to_recordset('[]'::jsonb) AS (${RECORD_EVENT_COLUMNS}) WITH NO DATA`,
      );
      const { rows } = await db.query<{ name: string; declared: string; column: string | null }>(
        `SELECT d.attname AS name, format_type(d.atttypid, d.atttypmod) AS declared,
                format_type(c.atttypid, c.atttypmod) AS column
           FROM pg_attribute d
           LEFT JOIN pg_attribute c ON c.attrelid = 'usage_records'::regclass AND c.attname = d.attname
                                   AND c.attnum > 0 AND NOT c.attisdropped
          WHERE d.attrelid = 'record_event_columns'::regclass AND d.attnum > 0
          ORDER BY d.attnum`,
      );
      // the list is read whole: the INSERT's fields, token kinds among them
      expect(rows.map((r) => r.name)).toEqual(
        expect.arrayContaining(['id', 'user_id', 'credits', 'metadata', 'provider_cost', 'scope_tags', 'input_tokens']),
      );
      expect(rows.length).toBeGreaterThanOrEqual(30);
      expect(rows.filter((r) => r.declared !== r.column)).toEqual([]);
    } finally {
      await db.query('ROLLBACK');
    }
  });
});
