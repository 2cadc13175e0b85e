import { expect } from 'vitest';

import { bearer, type TestApp, token } from './app.js';

/**
 * The money invariants of docs/invariants.md for organisations' accounts (test/support/invariants.ts
 * checks users'): every allocation's remaining = total + Σ its non-grant ledger amounts, never
 * negative; nothing spent beyond what was granted (overdraft apart); the debt is what overdraft lines
 * borrowed less what repay lines paid back; every line that spent names an active or former member;
 * each member's counter (credit_cap_spend, all days) is what their lines spent (debits, holds net of
 * releases, overdraft); reconcile reports nothing on these accounts.
 */
export async function checkOrgInvariants(t: Pick<TestApp, 'db' | 'http'>, orgIds: string[]) {
  const q = async (sql: string) => (await t.db.query(sql, [orgIds])).rows;
  const accounts = `(SELECT (SELECT account_id FROM accounts WHERE org_id = o) FROM unnest($1::varchar[]) o)`;
  const allocations = await q(
    `SELECT a.id, a.total_credits, a.remaining_credits, COALESCE(SUM(l.amount) FILTER (WHERE l.kind <> 'grant'), 0) AS moved
       FROM credit_allocations a LEFT JOIN credit_ledger l ON l.allocation_id = a.id
      WHERE a.account_id IN ${accounts}
      GROUP BY a.id
     HAVING a.remaining_credits < 0
         OR a.remaining_credits <> a.total_credits + COALESCE(SUM(l.amount) FILTER (WHERE l.kind <> 'grant'), 0)`,
  );
  const overspent = await q(
    `SELECT account_id FROM credit_ledger WHERE account_id IN ${accounts} GROUP BY account_id
     HAVING -COALESCE(SUM(amount) FILTER (WHERE kind NOT IN ('grant', 'overdraft')), 0)
            > COALESCE(SUM(amount) FILTER (WHERE kind = 'grant'), 0)`,
  );
  const debt = await q(
    `SELECT o AS org_id, COALESCE(c.debt, 0) AS debt
       FROM unnest($1::varchar[]) o LEFT JOIN credit_accounts c ON c.account_id = (SELECT account_id FROM accounts WHERE org_id = o)
      WHERE COALESCE(c.debt, 0) <> (SELECT COALESCE(-SUM(amount) FILTER (WHERE kind = 'overdraft'), 0)
                                          + COALESCE(SUM(amount) FILTER (WHERE kind = 'repay'), 0)
                                     FROM credit_ledger l WHERE l.account_id = (SELECT account_id FROM accounts WHERE org_id = o))`,
  );
  const strangers = await q(
    `SELECT l.id, l.member_id FROM credit_ledger l JOIN accounts a ON a.account_id = l.account_id
      WHERE l.account_id IN ${accounts} AND l.kind IN ('debit', 'hold', 'release', 'overdraft')
        AND NOT EXISTS (SELECT 1 FROM org_members m WHERE m.org_id = a.org_id AND m.user_id = l.member_id)`,
  );
  const counters = await q(
    `WITH lines AS (
       SELECT a.org_id, l.member_id AS user_id, -SUM(l.amount) AS n FROM credit_ledger l JOIN accounts a ON a.account_id = l.account_id
        WHERE l.account_id IN ${accounts} AND l.kind IN ('debit', 'hold', 'release', 'overdraft')
        GROUP BY a.org_id, l.member_id),
     counted AS (SELECT a.org_id, s.subject_id AS user_id, SUM(s.spent) AS n
                  FROM credit_cap_spend s JOIN accounts a ON a.account_id = s.account_id
                 WHERE s.subject_kind = 'member' AND a.org_id = ANY($1) GROUP BY 1, 2)
     SELECT COALESCE(l.org_id, c.org_id) AS org_id, COALESCE(l.user_id, c.user_id) AS user_id,
            COALESCE(l.n, 0)::int AS spent_by_ledger, COALESCE(c.n, 0)::int AS counted
       FROM lines l FULL JOIN counted c ON c.org_id = l.org_id AND c.user_id = l.user_id
      WHERE COALESCE(l.n, 0) <> COALESCE(c.n, 0)`,
  );
  const ids = new Set(
    (await q(`SELECT id::text FROM credit_allocations WHERE account_id IN ${accounts}`)).map((r) => r.id as string),
  );
  const res = await t.http.get('/api/credits/reconcile').set(bearer(token({ sub: 'invariants-admin', role: 'admin' })));
  expect(res.status).toBe(200);
  const reconcile = (res.body.mismatches as { allocationId: string | null }[]).filter(
    (m) => m.allocationId !== null && ids.has(m.allocationId),
  );
  return { allocations, overspent, debt, strangers, counters, reconcile };
}

/** Fails with the offending rows when any invariant is broken for these organisations. */
export async function expectOrgInvariants(t: Pick<TestApp, 'db' | 'http'>, orgIds: string[]): Promise<void> {
  expect(await checkOrgInvariants(t, orgIds)).toEqual({
    allocations: [],
    overspent: [],
    debt: [],
    strangers: [],
    counters: [],
    reconcile: [],
  });
}
