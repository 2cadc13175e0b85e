import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { linesMatching, sourceFiles } from '../support/sources.js';

/**
 * The usage module owns its tables (usage_records, usage_event_ids, the rollups): no SQL outside
 * src/usage/, in a repository or in a function file, writes them. Another module's statement that
 * needs a usage record (a batch take, a streaming settlement) places the usage module's part in it.
 */
const WRITES = /(INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE)\s+"?usage_\w+/i;

const sources = () =>
  sourceFiles('src', (name) => (name.endsWith('.ts') && !name.endsWith('.spec.ts')) || name.endsWith('.sql'));

describe('the usage tables', () => {
  it('no file outside src/usage/ writes a usage table', () => {
    const outside = sources().filter((file) => !file.startsWith(`src${path.sep}usage${path.sep}`));
    expect(linesMatching(outside, WRITES)).toEqual([]);
  });

  it('the check recognises a write, in TypeScript and in function files (so an empty result means something)', () => {
    expect(WRITES.test('INSERT INTO usage_records (id, user_id) SELECT $1, $2')).toBe(true);
    expect(WRITES.test('INSERT INTO usage_event_ids (owner, event_id, usage_record_id)')).toBe(true);
    expect(WRITES.test('DELETE FROM usage_event_ids f WHERE f.owner = p_owner')).toBe(true);
    expect(WRITES.test('UPDATE "usage_records" SET review_status = NULL')).toBe(true);
    expect(WRITES.test('TRUNCATE usage_rollup_pending')).toBe(true);
    expect(WRITES.test('SELECT credits FROM usage_records WHERE id = $1')).toBe(false);
    expect(WRITES.test('LEFT JOIN usage_event_ids f ON f.owner = p_owner')).toBe(false);
    const files = sources();
    expect(files.some((f) => f.endsWith(path.join('usage', 'sql', 'usage_events_claim.sql')))).toBe(true);
    expect(files.some((f) => f.endsWith('usage-records.repository.ts'))).toBe(true);
  });
});
