import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { linesMatching, sourceFiles } from '../support/sources.js';

/**
 * One money path (docs/money.md): only the credits module writes the credit tables (credit_*) or calls
 * credits_take(), in TypeScript or in a function file; every other module moves credits through
 * CreditsService. Migrations create them.
 */
const WRITES = /(INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE)\s+"?credit_\w+|credits_take\s*\(/i;

// The snapshots of composed statements (src/*/queries/*.sql) are not code: their parts are.
const sources = (dir: string) =>
  sourceFiles(dir, (name) => (name.endsWith('.ts') && !name.endsWith('.spec.ts')) || name.endsWith('.sql')).filter(
    (file) => !file.split(path.sep).includes('queries'),
  );

describe('the money path', () => {
  it('no file outside src/credits/ writes a credit table or calls credits_take', () => {
    const outside = sources('src').filter((file) => !file.startsWith(`src${path.sep}credits${path.sep}`));
    const offenders = linesMatching(outside, WRITES);
    expect(offenders).toEqual([]);
  });

  it('the check recognises a write (so an empty result means something)', () => {
    expect(WRITES.test('INSERT INTO credit_ledger (user_id) VALUES ($1)')).toBe(true);
    expect(WRITES.test('UPDATE "credit_allocations" SET remaining_credits = 0')).toBe(true);
    expect(WRITES.test('SELECT * FROM credits_take($1, $2)')).toBe(true);
    expect(WRITES.test('UPDATE credit_key_spend SET spent = 0')).toBe(true);
    expect(WRITES.test('INSERT INTO credit_accounts (user_id) VALUES ($1)')).toBe(true);
    expect(WRITES.test('SELECT remaining_credits FROM credit_allocations')).toBe(false);
    expect(WRITES.test('SELECT spent FROM credit_key_spend s WHERE s.api_key_id = k.id')).toBe(false);
    expect(sources('src').some((f) => f.endsWith('credits.repository.ts'))).toBe(true);
    expect(sources('src').some((f) => f.endsWith('credits_take.sql'))).toBe(true);
  });
});
