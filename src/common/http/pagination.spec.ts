import { describe, expect, it } from 'vitest';

import { DomainError } from '../errors/domain-error.js';
import { cursorTimestampSql, decodeIdCursor, decodeTimeCursor, encodeCursor, toPage } from './pagination.js';

describe('pagination', () => {
  it('a cursor round-trips and is URL-safe', () => {
    const key = { t: '2026-11-21T12:00:00.000001Z', id: 'a/b+c=?' };
    const cursor = encodeCursor(key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeTimeCursor(cursor, 'text')).toEqual(key);
    expect(decodeIdCursor(encodeCursor({ id: '9223372036854775807' }))).toEqual({ id: '9223372036854775807' });
  });

  it('no cursor means the first page', () => {
    expect(decodeTimeCursor(undefined, 'uuid')).toBeNull();
    expect(decodeTimeCursor('', 'uuid')).toBeNull();
    expect(decodeIdCursor(undefined)).toBeNull();
  });

  it.each([
    ['not base64 JSON', 'not-a-cursor'],
    ['JSON that is not an object', Buffer.from('42').toString('base64url')],
    ['a missing field', encodeCursor({ t: 'x' })],
    ['a field of the wrong type', Buffer.from(JSON.stringify({ t: 'x', id: { $ne: 1 } })).toString('base64url')],
    ['null', Buffer.from('null').toString('base64url')],
    ['an impossible day', encodeCursor({ t: '2026-02-30T00:00:00.000000Z', id: 'a' })],
    ['year 0000', encodeCursor({ t: '0000-01-01T00:00:00.000000Z', id: 'a' })],
    ['hour 24', encodeCursor({ t: '2026-01-01T24:00:00.000000Z', id: 'a' })],
    ['a time without microseconds', encodeCursor({ t: '2026-01-01T00:00:00Z', id: 'a' })],
    ['a NUL in a text id', encodeCursor({ t: '2026-01-01T00:00:00.000000Z', id: 'a\u0000' })],
  ])('rejects %s as a validation error (400)', (_name, cursor) => {
    try {
      decodeTimeCursor(cursor, 'text');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).status).toBe(400);
    }
  });

  it.each([['not a uuid', encodeCursor({ t: '2026-01-01T00:00:00.000000Z', id: 'abc' })]])(
    'rejects a uuid cursor with %s',
    (_name, cursor) => {
      expect(() => decodeTimeCursor(cursor, 'uuid')).toThrow(DomainError);
    },
  );

  it.each(['-1', '9223372036854775808', '1.5', 'x'])('rejects the bigint cursor id %s', (id) => {
    expect(() => decodeIdCursor(encodeCursor({ id }))).toThrow(DomainError);
  });

  it('toPage cuts limit+1 rows to limit and derives the cursor from the last row kept', () => {
    const rows = [1, 2, 3, 4].map((n) => ({ n }));
    const page = toPage(
      rows,
      3,
      (r) => r.n * 10,
      (r) => ({ n: r.n }),
    );
    expect(page.items).toEqual([10, 20, 30]);
    expect(JSON.parse(Buffer.from(page.nextCursor!, 'base64url').toString())).toEqual({ n: 3 });
  });

  it('toPage ends with a null cursor when nothing more is there', () => {
    expect(
      toPage(
        [{ n: 1 }, { n: 2 }],
        2,
        (r) => r.n,
        (r) => ({ n: r.n }),
      ),
    ).toEqual({ items: [1, 2], nextCursor: null });
    expect(
      toPage(
        [],
        50,
        (r: { n: number }) => r.n,
        (r) => ({ n: r.n }),
      ),
    ).toEqual({ items: [], nextCursor: null });
  });

  it('cursorTimestampSql renders the column at microsecond precision in UTC', () => {
    expect(cursorTimestampSql('t.created_at')).toBe(
      `to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    );
  });
});
