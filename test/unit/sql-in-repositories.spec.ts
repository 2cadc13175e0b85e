import { describe, expect, it } from 'vitest';

import { linesMatching, sourceFiles } from '../support/sources.js';

/**
 * Hand-written SQL lives in the owning module's repository file, with its row mapper, never in a
 * service, job, controller, interceptor, guard or strategy (docs/architecture.md).
 */
const RULE_FILES = /\.(service|job|controller|interceptor|guard|strategy)\.ts$/;
const SQL = /\.query\s*\(|\b(SELECT\s[\s\S]*?\sFROM|INSERT\s+INTO|UPDATE\s+"?\w+"?\s+SET|DELETE\s+FROM)\b/;

const sources = (dir: string) => sourceFiles(dir, (name) => RULE_FILES.test(name));

describe('where SQL lives', () => {
  it('no service, job, controller, interceptor, guard or strategy holds SQL', () => {
    const offenders = linesMatching(sources('src'), SQL);
    expect(offenders).toEqual([]);
  });

  it('the check recognises SQL (so an empty result means something)', () => {
    expect(SQL.test('await manager.query(`SELECT 1`)')).toBe(true);
    expect(SQL.test('`SELECT id FROM api_keys WHERE id = $1`')).toBe(true);
    expect(SQL.test('`INSERT INTO usage_records (id) VALUES ($1)`')).toBe(true);
    expect(SQL.test('UPDATE streaming_sessions SET status = $2')).toBe(true);
    expect(SQL.test('`DELETE FROM idempotency_keys`')).toBe(true);
    expect(SQL.test('const rows = await this.keys.list({ userId, after, limit });')).toBe(false);
    expect(SQL.test('// Select the rows from the cache')).toBe(false);
    expect(sources('src').some((f) => f.endsWith('api-keys.service.ts'))).toBe(true);
  });
});
