import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

/**
 * One money path (docs/money.md): only the credits module writes the credit tables (credit_*) or calls
 * credits_take(); every other module moves credits through CreditsService. Migrations create them.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const WRITES = /(INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE)\s+"?credit_\w+|credits_take\s*\(/i;

function sources(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(rel);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [rel] : [];
  });
}

describe('the money path', () => {
  it('no file outside src/credits/ writes a credit table or calls credits_take', () => {
    const offenders = sources('src')
      .filter((file) => !file.startsWith(`src${path.sep}credits${path.sep}`))
      .flatMap((file) =>
        readFileSync(path.join(root, file), 'utf8')
          .split('\n')
          .map((line, i) => ({ file, line: i + 1, text: line.trim() }))
          .filter(({ text }) => WRITES.test(text)),
      );
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
  });
});
