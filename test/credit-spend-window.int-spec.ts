import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/**
 * credit_spend_window() clears the stale slots of a written window in a short loop (its fast path,
 * under the account lock of every take) and falls back to the slot-by-slot definition for any other
 * shape. Both must answer what the definition says: a slot counts 0 when no window was written or
 * when its latest minute up to now comes after the newest bucket; otherwise its spend (NULL as 0).
 */
const DEFINITION = `
  (SELECT array_agg(CASE WHEN c.w IS NULL OR c.now_m - ((c.now_m - (s.slot - 1)) % 60) > c.wm
                         THEN 0 ELSE COALESCE(c.w[s.slot], 0) END ORDER BY s.slot)
     FROM generate_series(1, 60) AS s(slot))`;

describe('credit_spend_window()', () => {
  const db = new pg.Client({ connectionString: inject('databaseUrl') });
  beforeAll(() => db.connect());
  afterAll(() => db.end());

  /** Cases: [window, its newest minute, now]; the answers of the function and the definition. */
  const compare = async (casesSql: string) => {
    const { rows } = await db.query<{ differ: string; cases: string; cleared: string; kept: string }>(
      `WITH c AS (${casesSql})
       SELECT count(*) AS cases,
              count(*) FILTER (WHERE credit_spend_window(c.w, c.wm, c.now_m) IS DISTINCT FROM ${DEFINITION}) AS differ,
              count(*) FILTER (WHERE c.w IS NOT NULL AND ${DEFINITION} <> array_replace(c.w, NULL, 0)) AS cleared,
              count(*) FILTER (WHERE c.w IS NOT NULL AND ${DEFINITION} = array_replace(c.w, NULL, 0)) AS kept
         FROM c`,
    );
    return rows[0];
  };

  it('answers the definition for written windows, minutes from the same to over an hour apart', async () => {
    await db.query('SELECT setseed(0.25)');
    const result = await compare(`
      SELECT (SELECT array_agg((random() * 100)::int) FROM generate_series(1, 60 + g * 0)) AS w,
             (29000000 + (random() * 200)::int)::bigint AS wm,
             (29000000 + (random() * 300)::int - 50)::bigint AS now_m
        FROM generate_series(1, 20000) g`);
    expect(result.differ).toBe('0');
    // The cases reach both answers: windows with stale slots cleared, and windows kept whole.
    expect(Number(result.cleared)).toBeGreaterThan(5000);
    expect(Number(result.kept)).toBeGreaterThan(1000);
  });

  it('answers the definition for the other shapes: none, NULL slots, short, offset, no minute', async () => {
    await db.query('SELECT setseed(0.5)');
    const result = await compare(`
      SELECT CASE g % 5
               WHEN 0 THEN NULL
               WHEN 1 THEN (SELECT array_agg(CASE WHEN random() < 0.2 THEN NULL ELSE (random() * 100)::int END)
                              FROM generate_series(1, 60 + g * 0))
               WHEN 2 THEN (SELECT array_agg((random() * 100)::int) FROM generate_series(1, 30 + g * 0))
               WHEN 3 THEN ('[0:59]=' || (SELECT array_agg((random() * 100)::int) FROM generate_series(1, 60 + g * 0))::text)::int[]
               ELSE (SELECT array_agg((random() * 100)::int) FROM generate_series(1, 60 + g * 0))
             END AS w,
             CASE WHEN g % 7 = 0 THEN NULL ELSE (g % 150)::bigint END AS wm,
             100::bigint AS now_m
        FROM generate_series(1, 5000) g`);
    expect(result.differ).toBe('0');
    expect(Number(result.cleared)).toBeGreaterThan(100);
  });
});
