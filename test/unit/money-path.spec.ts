import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { linesMatching, sourceFiles } from '../support/sources.js';

/**
 * One money path (docs/money.md): only the engine and the credits tenants write the credit tables (credit_*) or calls
 * the one take (credits_take_events()), in TypeScript or in a function file; every other module moves credits through
 * CreditsService. Migrations create them.
 */
// The ledger's sums by day (credit_ledger_days, credit_ledger_days_filled) are the finance feed's
// (src/finance/feed/), derived from the ledger and moving no credit.
const WRITES = /(INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE)\s+"?credit_(?!ledger_days)\w+|credits_take_events\s*\(/i;

const sources = (dir: string) =>
  sourceFiles(dir, (name) => (name.endsWith('.ts') && !name.endsWith('.spec.ts')) || name.endsWith('.sql'));

/** The engine (src/engine/) and its tenants (src/credits/): the only folders that name the credit tables. */
const MONEY_FOLDERS = ['engine', 'credits'].map((folder) => `src${path.sep}${folder}${path.sep}`);
const outsideMoney = (file: string) => !MONEY_FOLDERS.some((folder) => file.startsWith(folder));
const insideMoney = () => MONEY_FOLDERS.flatMap((folder) => sources(folder.slice(0, -1)));

describe('the money path', () => {
  it('no file outside src/engine/ and src/credits/ writes a credit table or calls the take', () => {
    const outside = sources('src').filter(outsideMoney);
    const offenders = linesMatching(outside, WRITES);
    expect(offenders).toEqual([]);
  });

  it('the check recognises a write (so an empty result means something)', () => {
    expect(WRITES.test('INSERT INTO credit_ledger (member_id) VALUES ($1)')).toBe(true);
    expect(WRITES.test('UPDATE "credit_allocations" SET remaining_credits = 0')).toBe(true);
    expect(WRITES.test('SELECT * FROM credits_take_events($1, $2)')).toBe(true);
    expect(WRITES.test('UPDATE credit_cap_spend SET spent = 0')).toBe(true);
    expect(WRITES.test('INSERT INTO credit_accounts (account_id) VALUES ($1)')).toBe(true);
    expect(WRITES.test('SELECT remaining_credits FROM credit_allocations')).toBe(false);
    expect(WRITES.test('INSERT INTO credit_ledger (member_id) VALUES ($1)')).toBe(true);
    expect(WRITES.test('INSERT INTO credit_ledger_days (day) VALUES ($1)')).toBe(false);
    expect(WRITES.test('SELECT spent FROM credit_cap_spend s WHERE s.subject_id = k.id::varchar')).toBe(false);
    expect(sources('src').some((f) => f.endsWith('credits.repository.ts'))).toBe(true);
    expect(sources('src').some((f) => f.endsWith('credits_take_events.sql'))).toBe(true);
  });

  /**
   * Every movement inside the engine (docs/money.md "Where each rule lives"): no TypeScript anywhere,
   * the credits module's repositories and jobs included, writes credit_ledger or credit_allocations;
   * they are written only by the engine's SQL functions (src/engine/sql/), and among those only
   * credit_ledger_write() appends to the ledger or changes an allocation's remaining credits.
   */
  const LEDGER_OR_ALLOCATIONS = /(INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE)\s+"?credit_(ledger|allocations)\b/i;
  const LEDGER_APPEND = /INSERT\s+INTO\s+"?credit_ledger\b/i;
  const REMAINING_SET = /\bremaining_credits\s*=\s*[a-z]/i;
  const WRITER = `src${path.sep}engine${path.sep}sql${path.sep}credit_ledger_write.sql`;

  it('no route or job writes credit_ledger or credit_allocations but through the engine’s functions', () => {
    const typescript = sourceFiles('src', (name) => name.endsWith('.ts') && !name.endsWith('.spec.ts'));
    expect(linesMatching(typescript, LEDGER_OR_ALLOCATIONS)).toEqual([]);
    const functions = sources('src').filter((f) => f.endsWith('.sql'));
    const outsideEngine = functions.filter((f) => !f.startsWith(`src${path.sep}engine${path.sep}sql${path.sep}`));
    expect(linesMatching(outsideEngine, LEDGER_OR_ALLOCATIONS)).toEqual([]);
    const others = functions.filter((f) => f !== WRITER);
    expect(linesMatching(others, LEDGER_APPEND)).toEqual([]);
    expect(linesMatching(others, REMAINING_SET)).toEqual([]);
    // The writer is there and does both (so the empty answers above mean something): once for a
    // line alone, once for the lines of a batch (docs/money.md "The ledger").
    expect(linesMatching([WRITER], LEDGER_APPEND)).toHaveLength(2);
    expect(linesMatching([WRITER], REMAINING_SET)).toHaveLength(2);
  });

  it('the engine check recognises the writes it forbids', () => {
    expect(LEDGER_OR_ALLOCATIONS.test('UPDATE credit_allocations a SET expiring_notified = true')).toBe(true);
    expect(LEDGER_OR_ALLOCATIONS.test('INSERT INTO "credit_ledger" (member_id) VALUES ($1)')).toBe(true);
    expect(LEDGER_OR_ALLOCATIONS.test('INSERT INTO credit_accounts (account_id) VALUES ($1)')).toBe(false);
    expect(
      REMAINING_SET.test('UPDATE credit_allocations c SET remaining_credits = c.remaining_credits - v.amount'),
    ).toBe(true);
    expect(REMAINING_SET.test('SELECT remaining_credits FROM credit_allocations')).toBe(false);
  });

  /**
   * Caps owned by credits (docs/spend-controls.md): the one spend counter of every cap is read and
   * written only inside src/engine/ and src/credits/; other modules read a cap's spend through credit_cap_spent() and
   * never count or send a cap's event themselves.
   */
  const CAP_COUNTER = /\bcredit_cap_spend\b|\bcredit_cap_spend_add\s*\(|\bcredit_cap_limit_event\s*\(/i;

  it('no file outside src/engine/ and src/credits/ reads or writes the caps’ spend counter', () => {
    const outside = sources('src').filter(outsideMoney);
    expect(linesMatching(outside, CAP_COUNTER)).toEqual([]);
    // the credits module does (so the empty answer means something)
    const inside = insideMoney();
    expect(linesMatching(inside, CAP_COUNTER).length).toBeGreaterThan(3);
  });

  /**
   * The caps' limits (credit_caps) are the credits module's too: API keys and orgs set and read them,
   * and what was spent against them, only through CreditCapsService.
   */
  const CAP_LIMITS = /\bcredit_caps\b|\bcredit_cap_spent\s*\(/i;

  it('no file outside src/engine/ and src/credits/ reads or writes the caps’ limits or reads their spend', () => {
    const outside = sources('src').filter(outsideMoney);
    expect(linesMatching(outside, CAP_LIMITS)).toEqual([]);
    const inside = insideMoney();
    expect(linesMatching(inside, CAP_LIMITS).length).toBeGreaterThan(3);
    expect(CAP_LIMITS.test('SELECT c.credit_limit FROM credit_caps c')).toBe(true);
    expect(CAP_LIMITS.test('credit_cap_spent(c.subject_kind, c.subject_id, c.account_id, c.period, now())')).toBe(true);
    expect(CAP_LIMITS.test('SELECT spent FROM credit_cap_spend s')).toBe(false);
  });

  it('the caps check recognises the counter and its writers, not the read', () => {
    expect(CAP_COUNTER.test('SELECT spent FROM credit_cap_spend s')).toBe(true);
    expect(CAP_COUNTER.test("PERFORM credit_cap_spend_add('member', m, a, d, 1)")).toBe(true);
    expect(CAP_COUNTER.test("PERFORM credit_cap_limit_event('key', k, a, l, p, s, c)")).toBe(true);
    expect(CAP_COUNTER.test("SELECT credit_cap_spent('key', k.id::varchar, NULL, k.limit_period, now())")).toBe(false);
  });
});
