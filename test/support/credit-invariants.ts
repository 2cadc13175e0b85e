import { expect } from 'vitest';
import { bearer, token, type TestApp } from './app.js';

/**
 * CONTRACT invariants 1–2 for the given users (SQL on the shared test database), plus
 * GET /api/credits/reconcile restricted to them. Works without the usage/streaming tables.
 */
export async function expectCreditInvariants(t: Pick<TestApp, 'db' | 'http'>, users: string[]): Promise<void> {
  const negative = await t.db.query(
    `SELECT id, user_id, remaining_credits FROM credit_allocations WHERE user_id = ANY($1) AND remaining_credits < 0`,
    [users],
  );
  const overspent = await t.db.query(
    `SELECT l.user_id, SUM(l.amount) FILTER (WHERE l.kind = 'grant') AS granted,
            -SUM(l.amount) FILTER (WHERE l.kind <> 'grant') AS spent
       FROM credit_ledger l WHERE l.user_id = ANY($1) GROUP BY l.user_id
     HAVING -COALESCE(SUM(l.amount) FILTER (WHERE l.kind <> 'grant'), 0) > SUM(l.amount) FILTER (WHERE l.kind = 'grant')`,
    [users],
  );
  const mismatch = await t.db.query(
    `SELECT a.id, a.user_id, a.total_credits, a.remaining_credits,
            COALESCE(SUM(l.amount) FILTER (WHERE l.kind <> 'grant'), 0) AS moved
       FROM credit_allocations a LEFT JOIN credit_ledger l ON l.allocation_id = a.id
      WHERE a.user_id = ANY($1)
      GROUP BY a.id
     HAVING a.remaining_credits <> a.total_credits + COALESCE(SUM(l.amount) FILTER (WHERE l.kind <> 'grant'), 0)`,
    [users],
  );
  const res = await t.http.get('/api/credits/reconcile').set(bearer(token({ sub: 'credit-invariants-admin', role: 'admin' })));
  expect(res.status).toBe(200);
  expect(res.body.checkedAllocations).toBeGreaterThan(0);
  const mine = new Set(users);
  const reconcile = (res.body.mismatches as { userId: string }[]).filter((m) => mine.has(m.userId));
  expect({ negative: negative.rows, overspent: overspent.rows, mismatch: mismatch.rows, reconcile }).toEqual({
    negative: [],
    overspent: [],
    mismatch: [],
    reconcile: [],
  });
}
