import { randomUUID } from 'node:crypto';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/**
 * The account key made real (docs/money.md "The account and its lock"): an organisation's account,
 * which has no user, is one more account of the engine. Opened as a row of `accounts` (kind org, its
 * org id), named by callers as ('org', org id) through each entry point's p_account_kind, it is granted,
 * charged (a take, a batch, a hold and its settlement) and locked like a user's, and a user whose id
 * equals the org id keeps an account of its own.
 */
describe('an organisation account in the engine', () => {
  const db = new pg.Pool({ connectionString: inject('databaseUrl'), max: 8 });
  afterAll(() => db.end());
  const q = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) =>
    (await db.query<T>(sql, params)).rows;

  const org = `org-${randomUUID().slice(0, 8)}`;
  let accountId: string;

  beforeAll(async () => {
    // The same id as a user's: two accounts, neither the other's.
    await q(`INSERT INTO user_accounts (user_id) VALUES ($1)`, [org]);
    // Creating the organisation opens its account (the accounts_for_org trigger).
    await q(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'admin')`, [org]);
    [{ account_id: accountId }] = await q<{ account_id: string }>(
      `SELECT account_id::text FROM accounts WHERE kind = 'org' AND org_id = $1`,
      [org],
    );
    const [grant] = await q(
      `SELECT id, account_user_id(account_id) AS user_id, account_id::text, remaining_credits
         FROM credits_grant((SELECT account_id FROM accounts WHERE org_id = $1), 100, 'admin', now() + interval '1 day', NULL, 'manual', NULL, NULL, NULL, false)`,
      [org],
    );
    expect(grant).toMatchObject({ user_id: null, account_id: accountId, remaining_credits: 100 });
  });

  const balance = async (kind: string) =>
    Number(
      (
        await q<{ n: string }>(
          `SELECT credit_available((SELECT account_id FROM accounts WHERE kind = $1 AND $2 IN (user_id, org_id))) AS n`,
          [kind, org],
        )
      )[0].n,
    );

  it('resolves (kind, owner id) to distinct accounts', async () => {
    const [r] = await q<{ org: string; user: string; none: string | null }>(
      `SELECT (SELECT account_id FROM accounts WHERE org_id = $1)::text AS org, (SELECT account_id FROM accounts WHERE user_id = $1)::text AS user,
              (SELECT account_id FROM accounts WHERE org_id = 'no-such-org')::text AS none`,
      [org],
    );
    expect(r.org).toBe(accountId);
    expect(r.user).not.toBe(accountId);
    expect(r.none).toBeNull();
    expect(await balance('org')).toBe(100);
    expect(await balance('user')).toBe(0);
  });

  it('charges the org through a take, a batch and a hold settled with an overrun', async () => {
    const [take] = await q(
      `SELECT out_status, out_balance::int FROM credits_take_events('m1', NULL, NULL, '{}', ARRAY[(SELECT account_id FROM accounts WHERE org_id = $1)],
              ARRAY[10], ARRAY[NULL::uuid])`,
      [org],
    );
    expect(take).toEqual({ out_status: 'ok', out_balance: 90 });
    const events = await q(
      `SELECT out_status, out_balance::int FROM credits_take_events('m1', NULL, NULL, '{}',
              ARRAY[(SELECT account_id FROM accounts WHERE org_id = $1), (SELECT account_id FROM accounts WHERE org_id = $1)], ARRAY[5, 7],
              ARRAY[gen_random_uuid(), gen_random_uuid()]) ORDER BY out_ord`,
      [org],
    );
    expect(events).toEqual([
      { out_status: 'ok', out_balance: 85 },
      { out_status: 'ok', out_balance: 78 },
    ]);
    const session = `s-${randomUUID()}`;
    const [hold] = await q(
      `SELECT out_status FROM credits_hold(ARRAY[(SELECT account_id FROM accounts WHERE org_id = $1)], '{20}', ARRAY[$2::varchar], '{m1}', NULL, NULL, '{}')`,
      [org, session],
    );
    expect(hold).toEqual({ out_status: 'ok' });
    expect(
      await q(`SELECT member_id, account_id::text, outstanding FROM credit_holds WHERE session_id = $1`, [session]),
    ).toEqual([{ member_id: null, account_id: accountId, outstanding: 20 }]);
    const [settled] = await q(
      `SELECT out_status, out_kept::int, out_collected::int FROM credits_settle((SELECT account_id FROM accounts WHERE org_id = $1), $2, 25, 'm1', NULL, NULL, '{}')`,
      [org, session],
    );
    expect(settled).toEqual({ out_status: 'ok', out_kept: 20, out_collected: 5 });
    expect(await balance('org')).toBe(100 - 10 - 12 - 25);
    // Every line is the org account's, none a user's; the same-named user was never charged.
    const lines = await q<{ account_id: string; member_id: string | null; n: number }>(
      `SELECT account_id::text, member_id, count(*)::int AS n FROM credit_ledger
        WHERE account_id IN ((SELECT account_id FROM accounts WHERE org_id = $1), (SELECT account_id FROM accounts WHERE user_id = $1))
        GROUP BY account_id, member_id`,
      [org],
    );
    expect(lines).toEqual([{ account_id: accountId, member_id: null, n: 6 }]);
  });

  it('parallel takes from the org never spend more than it has', async () => {
    const before = await balance('org');
    const results = await Promise.all(
      Array.from({ length: 16 }, () =>
        q<{ out_status: string }>(
          `SELECT out_status FROM credits_take_events('m2', NULL, NULL, '{}', ARRAY[(SELECT account_id FROM accounts WHERE org_id = $1)], ARRAY[7],
                                                      ARRAY[NULL::uuid])`,
          [org],
        ),
      ),
    );
    const ok = results.filter(([r]) => r.out_status === 'ok').length;
    expect(ok).toBe(Math.floor(before / 7));
    expect(await balance('org')).toBe(before - 7 * ok);
    const [{ remaining }] = await q<{ remaining: number }>(
      `SELECT sum(remaining_credits)::int AS remaining FROM credit_allocations WHERE account_id = $1`,
      [accountId],
    );
    const [{ moved }] = await q<{ moved: number }>(
      `SELECT sum(amount)::int AS moved FROM credit_ledger WHERE account_id = $1`,
      [accountId],
    );
    expect(remaining).toBe(moved);
    expect(remaining).toBeGreaterThanOrEqual(0);
  });
});
