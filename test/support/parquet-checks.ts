import type pg from 'pg';
import { expect } from 'vitest';

import { bearer, type TestApp } from './app.js';
import { tokenFor } from './fixtures.js';
import { readExported } from './parquet.js';

const supervisor = bearer(tokenFor('supervisor', 'exports-checker'));

/** Each exported dataset's table and the id its files carry. */
export const EXPORTED_TABLES = [
  { dataset: 'usage_records', table: 'usage_records', id: 'id::text' },
  { dataset: 'ledger_entries', table: 'credit_ledger', id: 'id::text' },
  { dataset: 'allocations', table: 'credit_allocations', id: 'id::text' },
  { dataset: 'purchases', table: 'purchases', id: 'id::text' },
  { dataset: 'corrections', table: 'usage_corrections', id: 'id::text' },
] as const;

export interface ExportRunView {
  id: string;
  status: string;
  datasets: { dataset: string; rows: number; files: number }[];
  lastError: string | null;
}

/** Polls GET /api/exports until none of `ids` is still running (a job's end, not a time). */
export async function waitForRuns(app: Pick<TestApp, 'http'>, ids: string[]): Promise<ExportRunView[]> {
  for (let attempt = 0; attempt < 1200; attempt++) {
    const { body } = (await app.http.get('/api/exports?limit=500').set(supervisor)) as {
      body: { items: ExportRunView[] };
    };
    const runs = ids.map((id) => body.items.find((r) => r.id === id));
    if (runs.every((r) => r && r.status !== 'running')) return runs as ExportRunView[];
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`export runs ${ids.join(', ')} did not end`);
}

/** Where each dataset's exports have reached: its finished parts' highest end. */
export async function watermarks(db: pg.Pool): Promise<Map<string, string>> {
  const { rows } = await db.query<{ dataset: string; xid: string }>(
    `SELECT dataset, max(to_xid)::text AS xid FROM export_parts WHERE status = 'done' GROUP BY dataset`,
  );
  return new Map(rows.map((r) => [r.dataset, r.xid]));
}

/**
 * Every row below its dataset's watermark is in exactly one Parquet file, and no file holds any
 * other row. Answers how many rows the files hold.
 */
export async function expectEveryRowOnce(db: pg.Pool, dir: string): Promise<number> {
  const marks = await watermarks(db);
  let total = 0;
  for (const { dataset, table, id } of EXPORTED_TABLES) {
    const mark = marks.get(dataset) ?? '0';
    const { rows } = await db.query<{ id: string }>(
      `SELECT ${id} AS id FROM ${table} WHERE created_xid IS NULL OR created_xid < $1::bigint`,
      [mark],
    );
    const exported = await readExported(dir, dataset, `${dataset === 'ledger_entries' ? 'id::VARCHAR' : 'id'} AS id`);
    const ids = exported.map((r) => String(r.id));
    expect(new Set(ids).size, `${dataset}: a row in two files`).toBe(ids.length);
    expect(ids.sort(), dataset).toEqual(rows.map((r) => r.id).sort());
    total += ids.length;
  }
  return total;
}
