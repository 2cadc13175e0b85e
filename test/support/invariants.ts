import type pg from 'pg';
import { expect } from 'vitest';

import type { TestApp } from './app.js';
import { bearer, token } from './app.js';

/**
 * Invariants 1–3 of docs/invariants.md as SQL, restricted to the given users (spec files share one
 * database and run side by side), plus GET /api/credits/reconcile. Each check returns the offending
 * rows, so a failure shows what is wrong. Run them after every test that moves credits:
 *
 *   afterEach(() => expectInvariants(t, users));
 */
export interface InvariantViolations {
  /** 1: an allocation below zero, a user whose credits in use exceed what was granted, or a credit row not keyed by its account. */
  negativeOrOverspent: unknown[];
  /** 2: remaining_credits ≠ total_credits + Σ non-grant ledger amounts of the allocation (transfer_in funds a transfer's). */
  allocationMismatch: unknown[];
  /** 3: per user, credits that left balances (debit/hold/release) ≠ Σ usage credits + active holds. */
  unaccountedPerUser: unknown[];
  /** 3: a usage record whose credits are not what its own debits (and its session's hold) took. */
  usageRecordMismatch: unknown[];
  /** 3: a debit that no usage record explains, or a hold/release whose session has none. */
  orphanMovements: unknown[];
  /** 3: a settled streaming session without exactly one usage record, or an unsettled one with one. */
  sessionSettlement: unknown[];
  /** GET /api/credits/reconcile mismatches of these users. */
  reconcile: unknown[];
}

async function rows(db: pg.Pool, sql: string, users: string[]): Promise<unknown[]> {
  return (await db.query(sql, [users])).rows;
}

export async function checkInvariants(t: Pick<TestApp, 'db' | 'http'>, users: string[]): Promise<InvariantViolations> {
  const { db } = t;
  const negativeOrOverspent = await rows(
    db,
    `SELECT 'negative' AS problem, account_user_id(account_id) AS user_id, id::text AS ref, remaining_credits AS value
       FROM credit_allocations
      WHERE account_id IN (SELECT (SELECT account_id FROM accounts WHERE user_id = u) FROM unnest($1::varchar[]) u) AND remaining_credits < 0
     UNION ALL
     -- Everything that ever left the user's allocations (debits, holds net of releases, expiries,
     -- voids, rollovers, repayments, transfers out, refunds, freezes net of unfreezes) can never exceed
     -- what was granted or transferred in. (Overdraft and debt entries are not on an allocation: they
     -- are the debt, checked below.)
     SELECT 'overspent', account_user_id(account_id), NULL, SUM(amount)
       FROM credit_ledger WHERE account_id IN (SELECT (SELECT account_id FROM accounts WHERE user_id = u) FROM unnest($1::varchar[]) u)
      GROUP BY account_id
     HAVING -COALESCE(SUM(amount) FILTER (WHERE kind NOT IN ('grant', 'transfer_in', 'volume_adjustment', 'overdraft', 'debt')), 0)
            > COALESCE(SUM(amount) FILTER (WHERE kind IN ('grant', 'transfer_in', 'volume_adjustment')), 0)
     UNION ALL
     -- A user's debt is what overdraft entries borrowed, plus what debt entries made owed (purchase
     -- credits taken back after they were spent), minus what repay entries paid back.
     SELECT 'debt', u.user_id, NULL, COALESCE(c.debt, 0)
       FROM unnest($1::varchar[]) AS u(user_id)
       LEFT JOIN credit_accounts c ON c.account_id = (SELECT account_id FROM accounts WHERE user_id = u.user_id)
      WHERE COALESCE(c.debt, 0) <> (SELECT COALESCE(-SUM(amount) FILTER (WHERE kind IN ('overdraft', 'debt')), 0)
                                          + COALESCE(SUM(amount) FILTER (WHERE kind = 'repay'), 0)
                                     FROM credit_ledger l WHERE l.account_id = (SELECT account_id FROM accounts WHERE user_id = u.user_id))
     UNION ALL
     SELECT 'negative_debt', account_user_id(account_id), NULL, debt FROM credit_accounts
      WHERE account_id IN (SELECT (SELECT account_id FROM accounts WHERE user_id = u) FROM unnest($1::varchar[]) u) AND debt < 0
     UNION ALL
     -- The account key (docs/money.md "The account and its lock"): every ledger line and hold naming
     -- these users as their member is their account's or an organisation's they are a member of (an
     -- allocation or a settings row names no one but its account), and every ledger line on an
     -- allocation is that allocation's account's.
     SELECT 'wrong_account', x.member_id, x.ref, x.account_id
       FROM (SELECT member_id, id::text AS ref, account_id FROM credit_ledger WHERE member_id = ANY($1)
             UNION ALL SELECT member_id, session_id, account_id FROM credit_holds WHERE member_id = ANY($1)) x
      WHERE x.account_id IS DISTINCT FROM (SELECT account_id FROM accounts WHERE user_id = x.member_id)
        AND NOT EXISTS (SELECT 1 FROM accounts o JOIN org_members m ON m.org_id = o.org_id
                         WHERE o.account_id = x.account_id AND m.user_id = x.member_id)
     UNION ALL
     SELECT 'ledger_account', l.member_id, l.id::text, l.account_id
       FROM credit_ledger l JOIN credit_allocations a ON a.id = l.allocation_id
      WHERE l.member_id = ANY($1) AND l.account_id <> a.account_id`,
    users,
  );

  const allocationMismatch = await rows(
    db,
    // The funding entry is the grant, a transfer's lot's transfer_in, a volume give-back's volume_adjustment.
    `SELECT a.id, account_user_id(a.account_id) AS user_id, a.total_credits, a.remaining_credits,
            COALESCE(SUM(l.amount) FILTER (WHERE l.kind <> f.kind), 0) AS moved
       FROM credit_allocations a
      CROSS JOIN LATERAL (SELECT CASE a.source WHEN 'transfer' THEN 'transfer_in' WHEN 'volume' THEN 'volume_adjustment' ELSE 'grant' END AS kind) f
       LEFT JOIN credit_ledger l ON l.allocation_id = a.id
      WHERE a.account_id IN (SELECT (SELECT account_id FROM accounts WHERE user_id = u) FROM unnest($1::varchar[]) u)
      GROUP BY a.id, f.kind
     HAVING a.remaining_credits <> a.total_credits + COALESCE(SUM(l.amount) FILTER (WHERE l.kind <> f.kind), 0)`,
    users,
  );

  // Credits leave a balance through debit/hold (released holds come back); expiries and voids are
  // their own kinds. What left through debit/hold/release is either billed or still held. A usage
  // correction moves credits with `correction` lines, and what a dead lot could not take back leaves
  // it again (`expire` or `void`) for a new allocation (`grant`), all naming the correction; what they
  // moved is the corrections' credits (their deltas less what moved the open shortfall).
  const unaccountedPerUser = await rows(
    db,
    `WITH u AS (SELECT unnest($1::varchar[]) AS user_id),
     moved AS (
       SELECT member_id AS user_id, -SUM(amount) AS n FROM credit_ledger
        WHERE member_id = ANY($1)
          AND (kind IN ('debit', 'hold', 'release', 'overdraft', 'correction')
               OR (kind IN ('expire', 'void', 'grant') AND correction_id IS NOT NULL))
        GROUP BY member_id),
     billed AS (SELECT r.user_id, SUM(r.credits + COALESCE(c.n, 0)) AS n FROM usage_records r
                  LEFT JOIN LATERAL (SELECT SUM(x.delta - x.shortfall_delta) AS n FROM usage_corrections x
                                      WHERE x.record_id = r.id) c ON true
                 WHERE r.user_id = ANY($1) GROUP BY r.user_id),
     held AS (
       SELECT member_id AS user_id, SUM(outstanding) AS n FROM credit_holds
        WHERE member_id = ANY($1) AND settled_at IS NULL GROUP BY member_id)
     SELECT u.user_id, COALESCE(moved.n, 0) AS left_balances, COALESCE(billed.n, 0) AS usage_credits, COALESCE(held.n, 0) AS active_holds
       FROM u LEFT JOIN moved USING (user_id) LEFT JOIN billed USING (user_id) LEFT JOIN held USING (user_id)
      WHERE COALESCE(moved.n, 0) <> COALESCE(billed.n, 0) + COALESCE(held.n, 0)`,
    users,
  );

  // Each record is paid by its own debits plus, for a streaming settlement, what its session's hold
  // kept (hold − release), and its corrections by their lines. Exactly one record per session.
  const usageRecordMismatch = await rows(
    db,
    `SELECT r.id, r.user_id, r.service, r.credits, c.n AS corrected, d.n AS debited, h.n AS kept_from_hold
       FROM usage_records r
       LEFT JOIN LATERAL (SELECT COALESCE(SUM(x.delta - x.shortfall_delta), 0) AS n FROM usage_corrections x
                           WHERE x.record_id = r.id) c ON true
       LEFT JOIN LATERAL (SELECT -COALESCE(SUM(amount), 0) AS n FROM credit_ledger
                           WHERE usage_record_id = r.id
                             AND (kind IN ('debit', 'overdraft', 'correction')
                                  OR (kind IN ('expire', 'void', 'grant') AND correction_id IS NOT NULL))) d ON true
       LEFT JOIN LATERAL (SELECT -COALESCE(SUM(l.amount), 0) AS n FROM streaming_sessions s
                            JOIN credit_ledger l ON l.session_id = s.session_id AND l.member_id = s.user_id
                                                AND l.kind IN ('hold', 'release')
                           WHERE s.usage_record_id = r.id) h ON true
      WHERE r.user_id = ANY($1) AND r.credits + c.n <> d.n + h.n`,
    users,
  );

  const orphanMovements = await rows(
    db,
    `SELECT l.id, l.member_id, l.kind, l.amount, l.session_id, l.usage_record_id FROM credit_ledger l
      WHERE l.member_id = ANY($1)
        AND ((l.kind IN ('debit', 'overdraft', 'correction') AND NOT EXISTS (SELECT 1 FROM usage_records r WHERE r.id = l.usage_record_id))
          OR (l.kind IN ('hold', 'release') AND NOT EXISTS (SELECT 1 FROM credit_holds h
                                                             WHERE h.session_id = l.session_id AND h.account_id = l.account_id)))`,
    users,
  );

  const sessionSettlement = await rows(
    db,
    `SELECT s.session_id, s.status, s.usage_record_id, h.settled_at AS hold_settled_at,
            (SELECT count(*) FROM usage_records r WHERE r.metadata->>'sessionId' = s.session_id AND r.user_id = s.user_id) AS records
       FROM streaming_sessions s
       LEFT JOIN credit_holds h ON h.session_id = s.session_id
             AND h.account_id = (SELECT a.account_id FROM accounts a
                                  WHERE a.org_id = s.org_id OR (s.org_id IS NULL AND a.user_id = s.user_id))
      WHERE s.user_id = ANY($1)
        AND CASE WHEN s.status = 'active'
                 THEN (SELECT count(*) FROM usage_records r WHERE r.metadata->>'sessionId' = s.session_id AND r.user_id = s.user_id) <> 0
                      OR (s.allocated_credits > 0 AND (h.session_id IS NULL OR h.settled_at IS NOT NULL
                                                       OR h.outstanding <> s.allocated_credits))
                 ELSE (SELECT count(*) FROM usage_records r WHERE r.metadata->>'sessionId' = s.session_id AND r.user_id = s.user_id) <> 1
                      OR NOT EXISTS (SELECT 1 FROM usage_records r WHERE r.id = s.usage_record_id)
                      OR (h.session_id IS NOT NULL AND h.settled_at IS NULL)
            END`,
    users,
  );

  const res = await t.http.get('/api/credits/reconcile').set(bearer(token({ sub: 'invariants-admin', role: 'admin' })));
  expect(res.status).toBe(200);
  expect(res.body.checkedAllocations).toBeGreaterThan(0);
  const set = new Set(users);
  const reconcile = (res.body.mismatches as { userId: string }[]).filter((m) => set.has(m.userId));

  return {
    negativeOrOverspent,
    allocationMismatch,
    unaccountedPerUser,
    usageRecordMismatch,
    orphanMovements,
    sessionSettlement,
    reconcile,
  };
}

/** Fails with the offending rows when any invariant is broken for `users`. */
export async function expectInvariants(t: Pick<TestApp, 'db' | 'http'>, users: string[]): Promise<void> {
  const found = await checkInvariants(t, users);
  expect(found).toEqual({
    negativeOrOverspent: [],
    allocationMismatch: [],
    unaccountedPerUser: [],
    usageRecordMismatch: [],
    orphanMovements: [],
    sessionSettlement: [],
    reconcile: [],
  });
}
