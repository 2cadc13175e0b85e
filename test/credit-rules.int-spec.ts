import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/**
 * The credits module's small shared rules (src/engine/sql/credit_key_period_*.sql), which the takes
 * and the API keys' answers call, on the migrated database with the instant given.
 */
let db: pg.Pool;
beforeAll(() => {
  db = new pg.Pool({ connectionString: inject('databaseUrl'), max: 1 });
});
afterAll(() => db?.end());

/** When a budget over `period` counting at `now` resets, as an ISO string (null: never). */
async function resets(period: string, now: string): Promise<string | null> {
  // A session in another zone than UTC: the periods are UTC's whatever the connection says.
  const { rows } = await db.query<{ at: Date | null }>(
    `SELECT set_config('TimeZone', 'Pacific/Auckland', false), credit_key_period_end($1, $2::timestamptz) AS at`,
    [period, now],
  );
  return rows[0].at?.toISOString() ?? null;
}

describe('credit_key_period_end(): when a key budget counts from 0 again', () => {
  it('day: the next UTC midnight, from the first to the last millisecond of the day', async () => {
    expect(await resets('day', '2026-11-22T00:00:00.000Z')).toBe('2026-11-23T00:00:00.000Z');
    expect(await resets('day', '2026-11-22T13:31:08.123Z')).toBe('2026-11-23T00:00:00.000Z');
    expect(await resets('day', '2026-11-22T23:59:59.999Z')).toBe('2026-11-23T00:00:00.000Z');
  });

  it('day: across month and year ends, and on a leap day', async () => {
    expect(await resets('day', '2026-11-30T12:00:00Z')).toBe('2026-12-01T00:00:00.000Z');
    expect(await resets('day', '2026-12-31T23:00:00Z')).toBe('2027-01-01T00:00:00.000Z');
    expect(await resets('day', '2028-02-28T10:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
    expect(await resets('day', '2028-02-29T10:00:00Z')).toBe('2028-03-01T00:00:00.000Z');
  });

  it('week: the next Monday 00:00 UTC, from every day of the week', async () => {
    // 2026-11-16 is a Monday.
    const days = await Promise.all(
      ['16', '17', '18', '19', '20', '21', '22'].map((d) => resets('week', `2026-11-${d}T08:00:00Z`)),
    );
    expect(days).toEqual(Array(7).fill('2026-11-23T00:00:00.000Z'));
    expect(await resets('week', '2026-11-16T00:00:00.000Z')).toBe('2026-11-23T00:00:00.000Z');
  });

  it('week: Sunday late → Monday, also across a year end', async () => {
    expect(await resets('week', '2026-11-22T23:59:59.999Z')).toBe('2026-11-23T00:00:00.000Z');
    // 2026-12-31 is a Thursday; the week ends on Monday 2027-01-04.
    expect(await resets('week', '2026-12-31T12:00:00Z')).toBe('2027-01-04T00:00:00.000Z');
    expect(await resets('week', '2028-02-27T12:00:00Z')).toBe('2028-02-28T00:00:00.000Z');
  });

  it('week: a time zone offset in the input does not matter, only the UTC instant', async () => {
    // Monday 01:00 in +02:00 is Sunday 23:00 UTC.
    expect(await resets('week', '2026-11-23T01:00:00+02:00')).toBe('2026-11-23T00:00:00.000Z');
  });

  it('month: the next 1st 00:00 UTC; December → January; February in leap and common years', async () => {
    expect(await resets('month', '2026-11-01T00:00:00.000Z')).toBe('2026-12-01T00:00:00.000Z');
    expect(await resets('month', '2026-11-30T23:59:59.999Z')).toBe('2026-12-01T00:00:00.000Z');
    expect(await resets('month', '2026-12-15T00:00:00Z')).toBe('2027-01-01T00:00:00.000Z');
    expect(await resets('month', '2028-02-29T23:00:00Z')).toBe('2028-03-01T00:00:00.000Z');
    expect(await resets('month', '2027-02-28T23:00:00Z')).toBe('2027-03-01T00:00:00.000Z');
    expect(await resets('month', '2027-01-31T12:00:00Z')).toBe('2027-02-01T00:00:00.000Z');
  });

  it('total: never', async () => {
    expect(await resets('total', '2026-11-22T12:00:00Z')).toBeNull();
  });
});

describe('credit_key_period_start()', () => {
  it('is the end of the period before: the spend counts from where the last period ended', async () => {
    const { rows } = await db.query(
      `SELECT p, credit_key_period_end(p, credit_key_period_start(p, t) - interval '1 microsecond') = credit_key_period_start(p, t) AS joins
         FROM unnest(ARRAY['day', 'week', 'month']) p, (VALUES ('2026-11-22T13:31:08Z'::timestamptz), ('2028-02-29T23:59:59Z')) v(t)`,
    );
    expect(rows.every((r) => r.joins)).toBe(true);
    expect(rows).toHaveLength(6);
  });

  it('total: from the beginning of time', async () => {
    const { rows } = await db.query(`SELECT credit_key_period_start('total', now()) = '-infinity' AS ok`);
    expect(rows[0].ok).toBe(true);
  });
});
