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

  /**
   * Every movement inside the engine (docs/money.md "Where each rule lives"): no TypeScript anywhere,
   * the credits module's repositories and jobs included, writes credit_ledger or credit_allocations;
   * they are written only by the engine's SQL functions (src/credits/sql/), and among those only
   * credit_ledger_write() appends to the ledger or changes an allocation's remaining credits.
   */
  const LEDGER_OR_ALLOCATIONS = /(INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE)\s+"?credit_(ledger|allocations)\b/i;
  const LEDGER_APPEND = /INSERT\s+INTO\s+"?credit_ledger\b/i;
  const REMAINING_SET = /\bremaining_credits\s*=\s*[a-z]/i;
  const WRITER = `src${path.sep}credits${path.sep}sql${path.sep}credit_ledger_write.sql`;

  it('no route or job writes credit_ledger or credit_allocations but through the engine’s functions', () => {
    const typescript = sourceFiles('src', (name) => name.endsWith('.ts') && !name.endsWith('.spec.ts'));
    expect(linesMatching(typescript, LEDGER_OR_ALLOCATIONS)).toEqual([]);
    const functions = sources('src').filter((f) => f.endsWith('.sql'));
    const outsideEngine = functions.filter((f) => !f.startsWith(`src${path.sep}credits${path.sep}sql${path.sep}`));
    expect(linesMatching(outsideEngine, LEDGER_OR_ALLOCATIONS)).toEqual([]);
    const others = functions.filter((f) => f !== WRITER);
    expect(linesMatching(others, LEDGER_APPEND)).toEqual([]);
    expect(linesMatching(others, REMAINING_SET)).toEqual([]);
    // The writer is there and does both (so the empty answers above mean something).
    expect(linesMatching([WRITER], LEDGER_APPEND)).toHaveLength(1);
    expect(linesMatching([WRITER], REMAINING_SET)).toHaveLength(1);
  });

  it('the engine check recognises the writes it forbids', () => {
    expect(LEDGER_OR_ALLOCATIONS.test('UPDATE credit_allocations a SET expiring_notified = true')).toBe(true);
    expect(LEDGER_OR_ALLOCATIONS.test('INSERT INTO "credit_ledger" (user_id) VALUES ($1)')).toBe(true);
    expect(LEDGER_OR_ALLOCATIONS.test('INSERT INTO credit_accounts (user_id) VALUES ($1)')).toBe(false);
    expect(
      REMAINING_SET.test('UPDATE credit_allocations c SET remaining_credits = c.remaining_credits - v.amount'),
    ).toBe(true);
    expect(REMAINING_SET.test('SELECT remaining_credits FROM credit_allocations')).toBe(false);
  });
});
