import { readFileSync } from 'node:fs';
import path from 'node:path';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { sqlOwners } from '../scripts/sql-references.mjs';

/**
 * docs/architecture.md names the module that owns every table of the migrated schema, in its table
 * "Who owns each table", and names no table the schema lacks: a table added without saying which module
 * writes it fails here. Not tables of the schema: TypeORM's `migrations` and `typeorm_metadata` (the
 * expressions of generated columns, which its schema diff reads) and the test run's own `test_markers`
 * (test/support/global-setup.ts).
 */
const ROOT = path.resolve(import.meta.dirname, '..');
const NOT_THE_SCHEMA = new Set(['migrations', 'typeorm_metadata', 'test_markers']);

/** The rows `| \`table\` | module |` of the doc's section "Who owns each table". */
export function tableOwners(doc: string): Map<string, string> {
  const start = doc.indexOf('### Who owns each table');
  const end = doc.indexOf('\n#', start + 1);
  const section = doc.slice(start, end === -1 ? undefined : end);
  const rows = [...section.matchAll(/^\| `([a-z_0-9]+)`\s*\| ([^|]+?)\s*\|/gm)];
  return new Map(rows.map((m) => [m[1], m[2]]));
}

describe('docs/architecture.md: the owner of every table', () => {
  const db = new pg.Client({ connectionString: inject('databaseUrl') });
  let tables: string[];

  beforeAll(async () => {
    await db.connect();
    const { rows } = await db.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`,
    );
    tables = rows.map((r) => r.name).filter((name) => !NOT_THE_SCHEMA.has(name));
  });
  afterAll(() => db.end());

  it('reads the table of owners', () => {
    const owners = tableOwners(
      '### Who owns each table\n\n| table | module |\n| --- | --- |\n| `plans` | plans |\n\n## Next\n| `x` | y |',
    );
    expect([...owners]).toEqual([['plans', 'plans']]);
  });

  it('names every table of the migrated schema, and only those, each with its module', () => {
    const owners = tableOwners(readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8'));
    expect(tables).toEqual(expect.arrayContaining(['credit_ledger', 'accounts', 'audit_log']));
    expect(tables.filter((t) => !owners.has(t))).toEqual([]);
    expect([...owners.keys()].filter((t) => !tables.includes(t))).toEqual([]);
    const folders = new Set(readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8').match(/`src\/[a-z-]+\/`/g));
    expect([...owners].filter(([, module]) => !folders.has(`\`src/${module}/\``))).toEqual([]);
  });

  it("names as each table's module the folder of its entity", () => {
    const owners = tableOwners(readFileSync(path.join(ROOT, 'docs/architecture.md'), 'utf8'));
    const entityFolders = sqlOwners(ROOT).tables;
    expect(entityFolders.get('credit_ledger')).toBe('engine');
    const differ = [...entityFolders]
      .filter(([table, folder]) => owners.get(table) !== folder)
      .map(([table, folder]) => `${table}: entity in src/${folder}/, docs say ${owners.get(table)}`);
    expect(differ).toEqual([]);
  });
});
