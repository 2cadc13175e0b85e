import { readFileSync } from 'node:fs';
import path from 'node:path';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { root } from './support/sources.js';

/**
 * docs/scale.md places every table of the schema on Citus (distributed by the paying account,
 * reference, or local) and names every constraint or missing column that would have to change for
 * that. This compares the document with the migrated database both ways: a new table must be
 * placed, and a new obstacle to distributing by account (a unique key or a foreign key without the
 * account, a reference table pointing at a distributed one, a distributed table without its key) must
 * be written down where the document lists what would have to change — or, better, avoided.
 */
type Placement = 'distributed' | 'reference' | 'local';

interface Row {
  table: string;
  placement: Placement;
  key: string | null;
  changes: string[];
}

function placements(): Row[] {
  const doc = readFileSync(path.join(root, 'docs/scale.md'), 'utf8');
  const section = doc.slice(
    doc.indexOf('## Where each table goes'),
    doc.indexOf('\n## ', doc.indexOf('## Where each table goes') + 1),
  );
  return [...section.matchAll(/^\| `([a-z_]+)` +\| (distributed|reference|local) +\| ([^|]*)\| ([^|]*)\|/gm)].map(
    (m) => ({
      table: m[1],
      placement: m[2] as Placement,
      key: /`([a-z_]+)`/.exec(m[3])?.[1] ?? null,
      changes: [...m[4].matchAll(/`([^`]+)`/g)].map((c) => `${m[1]}: ${c[1]}`),
    }),
  );
}

/**
 * The account's column: `account_id`, or `user_id` where the rename to `account_id` has not
 * reached a table yet.
 */
function keyColumn(row: Row, columns: Set<string>): string | null {
  if (row.key === 'account_id' && !columns.has('account_id') && columns.has('user_id')) return 'user_id';
  return row.key;
}

describe('docs/scale.md and the schema', () => {
  const db = new pg.Client({ connectionString: inject('databaseUrl') });
  const rows = placements();
  const byTable = new Map(rows.map((r) => [r.table, r]));
  let tables: string[];
  let columns: Map<string, Set<string>>;
  let constraints: { table: string; name: string; type: 'p' | 'u' | 'f'; columns: string[]; target: string | null }[];
  let uniqueIndexes: { table: string; name: string; columns: string[] }[];

  beforeAll(async () => {
    await db.connect();
    tables = (
      await db.query<{ relname: string }>(
        // test_markers: the test-only route's table (test/support/global-setup.ts), not the service's.
        `SELECT relname FROM pg_class WHERE relkind IN ('r', 'p') AND relnamespace = 'public'::regnamespace
            AND relname <> 'test_markers' ORDER BY 1`,
      )
    ).rows.map((r) => r.relname);
    columns = new Map();
    const cols = await db.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'`,
    );
    for (const c of cols.rows) columns.set(c.table_name, (columns.get(c.table_name) ?? new Set()).add(c.column_name));
    constraints = (
      await db.query(
        `SELECT c.conrelid::regclass::text AS table, c.conname AS name, c.contype AS type,
                array(SELECT a.attname::text FROM unnest(c.conkey) k JOIN pg_attribute a
                        ON a.attrelid = c.conrelid AND a.attnum = k) AS columns,
                CASE WHEN c.contype = 'f' THEN c.confrelid::regclass::text END AS target
           FROM pg_constraint c
          WHERE c.contype IN ('p', 'u', 'f') AND c.connamespace = 'public'::regnamespace`,
      )
    ).rows;
    // Unique indexes that are not a constraint's (partial ones included).
    uniqueIndexes = (
      await db.query(
        `SELECT t.relname AS table, i.relname AS name,
                array(SELECT a.attname::text FROM unnest(x.indkey) k JOIN pg_attribute a
                        ON a.attrelid = x.indrelid AND a.attnum = k) AS columns
           FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
          WHERE x.indisunique AND t.relnamespace = 'public'::regnamespace
            AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)`,
      )
    ).rows;
  });
  afterAll(() => db.end());

  it('reads the placements', () => {
    expect(byTable.get('credit_ledger')).toMatchObject({ placement: 'distributed', key: 'account_id' });
    expect(byTable.get('pricing_rules')?.placement).toBe('reference');
  });

  it('places every table of the schema, and only those', () => {
    expect(rows.map((r) => r.table).sort()).toEqual(tables);
  });

  it('lists exactly what stands in the way of distributing by account', () => {
    const obstacles: string[] = [];
    for (const row of rows) {
      const cols = columns.get(row.table) ?? new Set<string>();
      if (row.placement !== 'distributed') continue;
      const key = keyColumn(row, cols);
      if (!key || !cols.has(key)) {
        obstacles.push(`${row.table}: +${row.key}`);
        continue;
      }
      // Citus: every primary key and unique index of a distributed table includes its key.
      for (const c of constraints.filter((c) => c.table === row.table && c.type !== 'f')) {
        if (!c.columns.includes(key)) obstacles.push(`${row.table}: ${c.name}`);
      }
      for (const i of uniqueIndexes.filter((i) => i.table === row.table)) {
        if (!i.columns.includes(key)) obstacles.push(`${row.table}: ${i.name}`);
      }
    }
    // Citus: a foreign key between distributed tables joins on the key (colocated); none from a
    // reference or local table to a distributed one.
    for (const fk of constraints.filter((c) => c.type === 'f')) {
      const from = byTable.get(fk.table);
      const to = byTable.get(fk.target ?? '');
      if (!from || !to || to.placement !== 'distributed') continue;
      const toKey = keyColumn(to, columns.get(to.table) ?? new Set());
      const fromKey = keyColumn(from, columns.get(from.table) ?? new Set());
      const colocated =
        from.placement === 'distributed' && fromKey !== null && fk.columns.includes(fromKey) && toKey !== null;
      if (!colocated) obstacles.push(`${fk.table}: ${fk.name}`);
    }
    const documented = rows.flatMap((r) => r.changes);
    expect(obstacles.sort()).toEqual(documented.sort());
  });
});
