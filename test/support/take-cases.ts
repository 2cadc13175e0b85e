import { randomUUID } from 'node:crypto';

import fc from 'fast-check';
import type pg from 'pg';

import type { ModelAccount } from './take-model.js';

/**
 * Generated accounts for the property tests of the take (test/credits-decision.int-spec.ts,
 * test/take-model.int-spec.ts): every limit pushed (key budgets passed and lowered below their spend,
 * hourly windows prefilled past their limit, overdraft used up and debt above the limit), made on a
 * migrated database by SQL, and the same account as the model sees it.
 */
export interface Setup {
  allocations: { credits: number; hours: number }[];
  overdraft: number;
  debt: number;
  thresholds: number[] | null;
  hourly: number | null;
  window: { age: number; buckets: number[] };
  key: { budget: number; spent: number } | null;
  /** An organisation's account, charged for a member with a daily limit (null: none) and today's spend. */
  member: { limit: number | null; spent: number; removed: boolean } | null;
  /** Auto-recharge on, asking for credits below `below` (absent or null: off). */
  recharge?: { below: number } | null;
}

export const setups: fc.Arbitrary<Setup> = fc.record({
  allocations: fc.array(
    fc.record({ credits: fc.integer({ min: 1, max: 30 }), hours: fc.integer({ min: 1, max: 200 }) }),
    {
      maxLength: 4,
    },
  ),
  overdraft: fc.constantFrom(0, 0, 4, 15),
  // Debt may exceed the overdraft limit (a limit lowered after the debt): no headroom then.
  debt: fc.constantFrom(0, 0, 0, 3, 20),
  thresholds: fc.option(fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { maxLength: 3 }), { nil: null }),
  hourly: fc.option(fc.integer({ min: 1, max: 60 }), { nil: null, freq: 2 }),
  // What the window already holds: minutes since its newest bucket (this minute, within the hour, at
  // and past its edge) and 60 buckets, sometimes past the limit on their own.
  window: fc.record({
    age: fc.constantFrom(0, 1, 30, 59, 60, 61, 500),
    buckets: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 60, maxLength: 60 }),
  }),
  // A key's budget, with what it spent this period already: at, under or over it (lowered below it).
  key: fc.option(fc.record({ budget: fc.integer({ min: 1, max: 60 }), spent: fc.integer({ min: 0, max: 70 }) }), {
    nil: null,
    freq: 2,
  }),
  member: fc.option(
    fc.record({
      limit: fc.option(fc.integer({ min: 0, max: 60 }), { nil: null, freq: 4 }),
      spent: fc.integer({ min: 0, max: 70 }),
      removed: fc.integer({ min: 0, max: 7 }).map((n) => n === 0),
    }),
    { nil: null, freq: 2 },
  ),
  recharge: fc.option(fc.record({ below: fc.integer({ min: 1, max: 40 }) }), { nil: null, freq: 2 }),
});

/**
 * The setup as the model sees it at minute `now` (the transaction's: now() does not move in it), with
 * the alert thresholds the take is given for an account without its own.
 */
export function modelOf(setup: Setup, now: number, defaultThresholds: number[] = []): ModelAccount {
  // The window as credit_spend_window() reads it: the slots of the minutes since its newest bucket are cleared.
  const newest = now - setup.window.age;
  const cleared = new Set<number>();
  for (let m = newest + 1; m <= Math.min(now, newest + 60); m++) cleared.add(m % 60);
  const windowUsed = setup.window.buckets.reduce((sum, n, slot) => sum + (cleared.has(slot) ? 0 : n), 0);
  return {
    // Spent soonest expiry first: each expires `hours` and its position in seconds from now.
    allocations: setup.allocations
      .map((a, i) => ({ credits: a.credits, at: a.hours * 3600 + i + 1 }))
      .sort((x, y) => x.at - y.at)
      .map((a) => a.credits),
    overdraftLimit: setup.overdraft,
    debt: setup.debt,
    hourly: setup.hourly,
    windowUsed,
    key: setup.key ? { ...setup.key } : null,
    member: setup.member ? { ...setup.member } : null,
    thresholds: setup.thresholds ?? defaultThresholds,
    armedUpTo: null,
    rechargeBelow: setup.recharge?.below ?? null,
    rechargeOpen: false,
    events: [],
  };
}

/** A query on the test's connection, answering its rows. */
export type Query = <T extends pg.QueryResultRow>(sql: string, params?: unknown[]) => Promise<T[]>;

/** An account a case made: its id, its key (null: none), its kind and, for an org's, its member. */
export interface CaseAccount {
  id: string;
  key: string | null;
  kind: 'user' | 'org';
  member: string | null;
}

/** The setups made as accounts (`account`), and an account's money read back (`state`), through `q`. */
export function caseAccounts(q: Query) {
  /**
   * An account with the setup's state, and (with a budget) a key of its own with the same budget and spend;
   * with a member, an organisation's account, its member (limit, today's spend) and the key theirs, of the org.
   */
  async function account(
    setup: Setup,
    tag: string,
  ): Promise<{ id: string; key: string | null; kind: 'user' | 'org'; member: string | null }> {
    const id = `dec-${tag}-${randomUUID().slice(0, 8)}`;
    const kind = setup.member ? 'org' : 'user';
    const member = setup.member ? `${id}-m` : null;
    // The user first: its account (accounts_for_user()) exists once that statement has ended.
    await q(`INSERT INTO user_accounts (user_id) VALUES ($1)`, [member ?? id]);
    if (setup.member) {
      await q(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'test')`, [id]);
      await q(
        `WITH m AS (INSERT INTO org_members (org_id, user_id, role, removed_at)
                    VALUES ($1, $2, 'member', CASE WHEN $4 THEN now() END))
         INSERT INTO credit_caps (subject_kind, subject_id, account_id, credit_limit, period)
         SELECT 'member', $2, (SELECT account_id FROM accounts WHERE org_id = $1), $3::bigint, 'day' WHERE $3::bigint IS NOT NULL`,
        [id, member, setup.member.limit, setup.member.removed],
      );
      await q(
        `INSERT INTO credit_cap_spend (subject_kind, subject_id, account_id, period_start, spent)
         VALUES ('member', $2, (SELECT account_id FROM accounts WHERE org_id = $1), date_trunc('day', now(), 'UTC'), $3)`,
        [id, member, setup.member.spent],
      );
    }
    const [{ key }] = await q<{ key: string | null }>(
      `WITH credit AS (
         INSERT INTO credit_accounts (account_id, debt, overdraft_limit, max_credits_per_hour, low_balance_thresholds,
                                      spend_minute, spend_window, recharge_below)
         VALUES ((SELECT account_id FROM accounts WHERE kind = $12 AND $1 IN (user_id, org_id)), $2, $3, $4, $5, floor(extract(epoch FROM now()) / 60)::bigint - $6, $7, $14)),
       recharge AS (
         INSERT INTO auto_recharge_settings (account_id, enabled, below_credits, recharge_credits, min_interval_minutes,
                                             consecutive_failures, updated_by)
         SELECT (SELECT account_id FROM accounts WHERE kind = $12 AND $1 IN (user_id, org_id)), true, $14, 50, 60, 0, 'test' WHERE $14::int IS NOT NULL),
       allocations AS (
         INSERT INTO credit_allocations (account_id, total_credits, remaining_credits, allocated_by, expires_at)
         SELECT (SELECT account_id FROM accounts WHERE kind = $12 AND $1 IN (user_id, org_id)), a.credits, a.credits, 'test', now() + make_interval(hours => a.hours) + make_interval(secs => a.i)
           FROM unnest($8::int[], $9::int[]) WITH ORDINALITY AS a(credits, hours, i)),
       key AS (
         INSERT INTO api_keys (user_id, name, key_hash, prefix, org_id)
         SELECT COALESCE($13, $1), 'k', decode(md5(random()::text) || md5(random()::text), 'hex'), 'ak_test',
                CASE WHEN $13::varchar IS NOT NULL THEN $1 END
          WHERE $10::int IS NOT NULL
         RETURNING id, user_id),
       cap AS (
         INSERT INTO credit_caps (subject_kind, subject_id, account_id, credit_limit, period, owner_id)
         SELECT 'key', key.id, 0, $10, 'day', key.user_id FROM key),
       spend AS (
         INSERT INTO credit_cap_spend (subject_kind, subject_id, account_id, period_start, spent)
         SELECT 'key', key.id, 0, credit_key_period_start('day', now()), $11 FROM key)
       SELECT (SELECT id FROM key) AS key`,
      [
        id,
        setup.debt,
        setup.overdraft,
        setup.hourly,
        setup.thresholds,
        setup.window.age,
        setup.window.buckets,
        setup.allocations.map((a) => a.credits),
        setup.allocations.map((a) => a.hours),
        setup.key?.budget ?? null,
        setup.key?.spent ?? null,
        kind,
        member,
        setup.recharge?.below ?? null,
      ],
    );
    return { id, key, kind, member };
  }

  /**
   * An account's money, in terms that do not depend on ids (an organisation's: its lines naming the
   * member, the member's spend today, the events naming the member; the org's balance alerts name no
   * user and are left out).
   */
  async function state(a: { id: string; key: string | null; kind: string; member: string | null }) {
    const [row] = await q(
      `SELECT
         (SELECT COALESCE(json_agg(json_build_object('kind', kind, 'amount', amount, 'after', balance_after,
                                                     'viaKey', api_key_id IS NOT NULL, 'named', member_id IS NOT NULL)
                                   ORDER BY id), '[]')
            FROM credit_ledger WHERE account_id = (SELECT account_id FROM accounts WHERE kind = $3 AND $1 IN (user_id, org_id))) AS ledger,
         (SELECT json_agg(remaining_credits ORDER BY expires_at) FROM credit_allocations
           WHERE account_id = (SELECT account_id FROM accounts WHERE kind = $3 AND $1 IN (user_id, org_id))) AS allocations,
         (SELECT json_build_object('debt', debt, 'minute', spend_minute, 'window', spend_window)
            FROM credit_accounts WHERE account_id = (SELECT account_id FROM accounts WHERE kind = $3 AND $1 IN (user_id, org_id))) AS account,
         (SELECT json_agg(json_build_object('type', type, 'data', data - 'userId' - 'apiKeyId' - 'orgId' - 'attemptId')
                          ORDER BY created_at, type DESC, (data->>'threshold')::int DESC)
            FROM events WHERE user_id = COALESCE($4, $1)) AS events,
         (SELECT spent FROM credit_cap_spend WHERE subject_kind = 'key' AND subject_id = $2::varchar) AS key_spend,
         (SELECT json_agg(spent) FROM credit_cap_spend
           WHERE subject_kind = 'member' AND subject_id = $4 AND account_id = (SELECT account_id FROM accounts WHERE kind = $3 AND $1 IN (user_id, org_id))) AS member_spend`,
      [a.id, a.key, a.kind, a.member],
    );
    return row;
  }

  return { account, state };
}
