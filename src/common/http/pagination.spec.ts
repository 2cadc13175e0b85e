import { describe, expect, it } from 'vitest';
import { DomainError } from '../errors/domain-error.js';
import { cursorTimestampSql, decodeCursor, encodeCursor, toPage } from './pagination.js';

describe('pagination', () => {
  it('a cursor round-trips and is URL-safe', () => {
    const key = { t: '2026-11-21T12:00:00.000Z', id: 'a/b+c=?' };
    const cursor = encodeCursor(key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, ['t', 'id'])).toEqual(key);
  });

  it('no cursor means the first page', () => {
    expect(decodeCursor(undefined, ['t'])).toBeNull();
    expect(decodeCursor('', ['t'])).toBeNull();
  });

  it.each([
    ['not base64 JSON', 'not-a-cursor'],
    ['JSON that is not an object', Buffer.from('42').toString('base64url')],
    ['a missing field', encodeCursor({ t: 'x' })],
    ['a field of the wrong type', Buffer.from(JSON.stringify({ t: 'x', id: { $ne: 1 } })).toString('base64url')],
    ['null', Buffer.from('null').toString('base64url')],
  ])('rejects %s as a validation error (400)', (_name, cursor) => {
    try {
      decodeCursor(cursor, ['t', 'id']);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).status).toBe(400);
    }
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
    expect(decodeCursor(page.nextCursor!, ['n'])).toEqual({ n: 3 });
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
