import { describe, expect, it } from 'vitest';

import { preparedName, withParts } from './statement-parts.js';

describe('preparedName', () => {
  it('names a statement by its label and a hash of its text', () => {
    const name = preparedName('usage_record_with_debit', 'SELECT 1');
    expect(name).toMatch(/^usage_record_with_debit_[0-9a-f]{12}$/);
    expect(preparedName('usage_record_with_debit', 'SELECT 1')).toBe(name);
    // Another text is another name by itself: no version to bump by hand.
    expect(preparedName('usage_record_with_debit', 'SELECT 2')).not.toBe(name);
  });

  it('keeps each sender its own name for a text two of them send, whichever sends first', () => {
    const text = 'SELECT 4';
    expect(preparedName('usage_record_event', text)).toMatch(/^usage_record_event_/);
    expect(preparedName('usage_batch', text)).toMatch(/^usage_batch_/);
    expect(preparedName('usage_record_event', text)).toMatch(/^usage_record_event_/);
  });

  it('stays within the 63 bytes PostgreSQL keeps of a name for the labels in use', () => {
    expect(preparedName('streaming_session_with_hold', 'SELECT 3').length).toBeLessThanOrEqual(63);
  });
});

describe('withParts', () => {
  it('renumbers each part after the parameters of the parts before it', () => {
    const s = withParts(
      [
        { name: 'a', sql: 'SELECT $1::int AS x', params: [1], materialized: true },
        { name: 'b', sql: 'SELECT $1::int + $2::int AS y FROM a', params: [2, 3] },
      ],
      { sql: 'SELECT * FROM b WHERE $1::bool', params: [true] },
    );
    expect(s.sql).toBe(
      'WITH a AS MATERIALIZED (SELECT $1::int AS x),\nb AS (SELECT $2::int + $3::int AS y FROM a)\nSELECT * FROM b WHERE $4::bool',
    );
    expect(s.params).toEqual([1, 2, 3, true]);
  });
});
