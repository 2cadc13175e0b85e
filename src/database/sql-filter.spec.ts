import { describe, expect, it } from 'vitest';

import { SqlFilter } from './sql-filter.js';

describe('SqlFilter', () => {
  it('numbers the parameters in the order the conditions are added, the keyset time before its id', () => {
    const where = new SqlFilter()
      .equal('e.type', 'credits.granted')
      .equal('e.user_id', undefined)
      .before('e.created_at', 'e.id', { t: '2026-01-01T00:00:00.000001Z', id: 'a' });
    expect(where.clause).toBe('WHERE e.type = $1 AND (e.created_at, e.id) < ($2::timestamptz, $3::uuid)');
    expect(where.param(51)).toBe('$4');
    expect(where.params).toEqual(['credits.granted', '2026-01-01T00:00:00.000001Z', 'a', 51]);
  });

  it('is no clause at all without a condition', () => {
    const where = new SqlFilter().equal('n.status', undefined).before('n.created_at', 'n.id', null);
    expect(where.clause).toBe('');
    expect(where.params).toEqual([]);
  });
});
