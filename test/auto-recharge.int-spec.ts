import { randomUUID } from 'node:crypto';

import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';

/**
 * Auto-recharge in the engine (docs/auto-recharge.md), on the SQL functions themselves: every take
 * (a record's, each batch event's, a hold's, a settlement's overrun) that leaves the account below its
 * threshold asks auto_recharge_check(), which opens at most one attempt and emits
 * `auto_recharge.requested`, within the minimum interval and the monthly cap; auto_recharge_fail()
 * and auto_recharge_succeed() close attempts, and the third failure in a row turns auto-recharge off.
 * The settings are written here as AutoRechargeRepository.put() writes them (test/auto-recharge.e2e-spec.ts
 * sets them through the route); time is set through the rows, never waited for.
 */
describe('auto-recharge in the engine', () => {
  const db = new pg.Pool({ connectionString: inject('databaseUrl'), max: 12 });
  afterAll(() => db.end());
  const q = async <T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = []) =>
    (await db.query<T>(sql, params)).rows;

  interface Settings {
    enabled?: boolean;
    below: number;
    recharge: number;
    maxPerMonth?: number | null;
    interval?: number;
  }

  /** A user (or org) with an account, `credits` granted, and auto-recharge set. */
  async function account(kind: 'user' | 'org', credits: number, settings: Settings | null) {
    const id = `${kind === 'org' ? 'org' : 'ar'}-${randomUUID().slice(0, 12)}`;
    if (kind === 'user') await q(`INSERT INTO user_accounts (user_id) VALUES ($1)`, [id]);
    else await q(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'admin')`, [id]);
    const [{ account_id: accountId }] = await q<{ account_id: string }>(
      `SELECT (SELECT account_id FROM accounts WHERE kind = $1 AND $2 IN (user_id, org_id))::text AS account_id`,
      [kind, id],
    );
    await q(
      `SELECT 1 FROM credits_grant((SELECT account_id FROM accounts WHERE kind = $3 AND $1 IN (user_id, org_id)), $2, 'admin', now() + interval '30 days', NULL, 'manual', NULL, NULL, NULL, false)`,
      [id, credits, kind],
    );
    if (settings) await set(accountId, settings);
    return { id, kind, accountId };
  }

  async function set(accountId: string, s: Settings) {
    const enabled = s.enabled ?? true;
    await q(
      `INSERT INTO auto_recharge_settings AS s (account_id, enabled, below_credits, recharge_credits, max_credits_per_month,
                                                min_interval_minutes, consecutive_failures, updated_by)
       VALUES ($1, $2, $3, $4, $5, $6, 0, 'test')
       ON CONFLICT (account_id) DO UPDATE SET enabled = EXCLUDED.enabled, below_credits = EXCLUDED.below_credits,
         recharge_credits = EXCLUDED.recharge_credits, max_credits_per_month = EXCLUDED.max_credits_per_month,
         min_interval_minutes = EXCLUDED.min_interval_minutes, consecutive_failures = 0`,
      [accountId, enabled, s.below, s.recharge, s.maxPerMonth ?? null, s.interval ?? 60],
    );
    await q(
      `INSERT INTO credit_accounts AS c (account_id, recharge_below) VALUES ($1, $2)
       ON CONFLICT (account_id) DO UPDATE SET recharge_below = EXCLUDED.recharge_below`,
      [accountId, enabled ? s.below : null],
    );
  }

  type Acc = Awaited<ReturnType<typeof account>>;

  const take = async (a: Acc, credits: number) =>
    (
      await q<{ out_status: string; out_balance_after: number }>(
        `SELECT out_status, out_balance::int AS out_balance_after
           FROM credits_take_events('test', NULL, NULL, '{}', ARRAY[$1::bigint], ARRAY[$2::int], ARRAY[NULL::uuid])`,
        [a.accountId, credits],
      )
    )[0];

  const attempts = (a: Acc) =>
    q<{ id: string; credits: number; status: string; closed: boolean }>(
      `SELECT id, credits, status, closed_at IS NOT NULL AS closed FROM auto_recharge_attempts
        WHERE account_id = $1 ORDER BY opened_at, id`,
      [a.accountId],
    );

  /** The account's auto_recharge events, oldest first (data as emitted). */
  const events = (a: Acc) =>
    q<{ type: string; user_id: string | null; data: Record<string, unknown> }>(
      `SELECT type, user_id, data FROM events
        WHERE type LIKE 'auto_recharge.%' AND (data->>'userId' = $1 OR data->>'orgId' = $1) ORDER BY created_at, id`,
      [a.id],
    );

  const fail = async (attemptId: string) =>
    (
      await q<{ out_status: string; out_disabled: boolean }>(
        `SELECT out_status, out_disabled FROM auto_recharge_fail($1, 'card_declined')`,
        [attemptId],
      )
    )[0];

  const succeed = async (attemptId: string, a: Acc) =>
    (
      await q<{ s: string }>(
        `SELECT auto_recharge_succeed($1, (SELECT account_id FROM accounts WHERE kind = $3 AND $2 IN (user_id, org_id))) AS s`,
        [attemptId, a.id, a.kind],
      )
    )[0].s;

  /** As if the account's attempts had opened `minutes` earlier. */
  const backdate = (a: Acc, minutes: number) =>
    q(
      `UPDATE auto_recharge_attempts SET opened_at = opened_at - make_interval(mins => $2),
              closed_at = closed_at - make_interval(mins => $2) WHERE account_id = $1`,
      [a.accountId, minutes],
    );

  it('opens one attempt when a take leaves the account below the threshold, and emits it', async () => {
    const a = await account('user', 100, { below: 50, recharge: 200 });
    expect(await take(a, 40)).toEqual({ out_status: 'ok', out_balance_after: 60 });
    expect(await attempts(a)).toEqual([]);
    expect(await take(a, 20)).toEqual({ out_status: 'ok', out_balance_after: 40 });
    const [attempt] = await attempts(a);
    expect(attempt).toMatchObject({ credits: 200, status: 'open', closed: false });
    expect(await events(a)).toEqual([
      { type: 'auto_recharge.requested', user_id: a.id, data: { attemptId: attempt.id, userId: a.id, credits: 200 } },
    ]);
    // More charges below the threshold while it is open: still one attempt, one event.
    await take(a, 5);
    await take(a, 5);
    expect(await attempts(a)).toHaveLength(1);
    expect(await events(a)).toHaveLength(1);
  });

  it('a take that leaves the account at the threshold, or a refused one, opens nothing', async () => {
    const a = await account('user', 100, { below: 50, recharge: 200 });
    expect(await take(a, 50)).toEqual({ out_status: 'ok', out_balance_after: 50 });
    expect(await take(a, 51)).toMatchObject({ out_status: 'insufficient' });
    expect(await attempts(a)).toEqual([]);
  });

  it('nothing when auto-recharge is off (recharge_below null), even far below', async () => {
    const a = await account('user', 100, { enabled: false, below: 50, recharge: 200 });
    await take(a, 99);
    expect(await attempts(a)).toEqual([]);
    expect(
      (
        await q<{ r: number | null }>(`SELECT recharge_below AS r FROM credit_accounts WHERE account_id = $1`, [
          a.accountId,
        ])
      )[0].r,
    ).toBeNull();
  });

  it('no attempt within minIntervalMinutes of the last opening, failed ones included', async () => {
    const a = await account('user', 1000, { below: 900, recharge: 100, interval: 60 });
    await take(a, 200);
    const [first] = await attempts(a);
    expect(await fail(first.id)).toEqual({ out_status: 'failed', out_disabled: false });
    // 59 minutes after it opened: too soon.
    await backdate(a, 59);
    await take(a, 1);
    expect(await attempts(a)).toHaveLength(1);
    // 60 minutes after: a new one opens.
    await backdate(a, 1);
    await take(a, 1);
    const list = await attempts(a);
    expect(list.map((x) => x.status)).toEqual(['failed', 'open']);
    expect(await events(a)).toHaveLength(2);
  });

  it('no attempt whose credits with this UTC month’s attempts that did not fail would pass the cap', async () => {
    const a = await account('user', 1000, { below: 900, recharge: 200, maxPerMonth: 500, interval: 0 });
    // Last month's succeeded attempt and this month's failed one do not count; this month's succeeded one does.
    // This month's are a minute or two ago, but never before the month's start (in its first minutes).
    await q(
      `WITH m AS (SELECT date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS start)
       INSERT INTO auto_recharge_attempts (account_id, credits, status, opened_at, closed_at)
       SELECT $1, 200, x.status, x.at, x.at FROM m, LATERAL (VALUES
         ('succeeded', m.start - interval '1 minute'),
         ('failed', greatest(m.start, now() - interval '2 minutes')),
         ('succeeded', greatest(m.start, now() - interval '1 minute'))) AS x (status, at)`,
      [a.accountId],
    );
    await take(a, 200); // 200 (succeeded) + 200 = 400 ≤ 500: opens
    let open = (await attempts(a)).filter((x) => x.status === 'open');
    expect(open).toHaveLength(1);
    expect(await succeed(open[0].id, a)).toBe('succeeded');
    await take(a, 1); // 400 + 200 = 600 > 500: nothing
    open = (await attempts(a)).filter((x) => x.status === 'open');
    expect(open).toEqual([]);
    expect(await attempts(a)).toHaveLength(4);
    // A cap of exactly 600 lets it open.
    await set(a.accountId, { below: 900, recharge: 200, maxPerMonth: 600, interval: 0 });
    await take(a, 1);
    expect((await attempts(a)).filter((x) => x.status === 'open')).toHaveLength(1);
  });

  it('three failures in a row turn auto-recharge off and emit auto_recharge.disabled; a success resets the count', async () => {
    const a = await account('user', 1000, { below: 1000, recharge: 100, interval: 0 });
    const next = async () => {
      await take(a, 1);
      const open = (await attempts(a)).filter((x) => x.status === 'open');
      expect(open).toHaveLength(1);
      return open[0].id;
    };
    expect(await fail(await next())).toEqual({ out_status: 'failed', out_disabled: false });
    expect(await fail(await next())).toEqual({ out_status: 'failed', out_disabled: false });
    expect(await succeed(await next(), a)).toBe('succeeded');
    expect(await fail(await next())).toEqual({ out_status: 'failed', out_disabled: false });
    expect(await fail(await next())).toEqual({ out_status: 'failed', out_disabled: false });
    const third = await next();
    expect(await fail(third)).toEqual({ out_status: 'failed', out_disabled: true });
    expect(
      await q(
        `SELECT s.enabled, s.consecutive_failures, c.recharge_below FROM auto_recharge_settings s
           JOIN credit_accounts c USING (account_id) WHERE s.account_id = $1`,
        [a.accountId],
      ),
    ).toEqual([{ enabled: false, consecutive_failures: 3, recharge_below: null }]);
    const emitted = await events(a);
    expect(emitted.filter((e) => e.type === 'auto_recharge.requested')).toHaveLength(6);
    expect(emitted.filter((e) => e.type === 'auto_recharge.disabled')).toEqual([
      {
        type: 'auto_recharge.disabled',
        user_id: a.id,
        data: { attemptId: third, userId: a.id, consecutiveFailures: 3 },
      },
    ]);
    // Off: nothing opens any more.
    await take(a, 1);
    expect((await attempts(a)).filter((x) => x.status === 'open')).toEqual([]);
    // Failing again changes nothing.
    expect(await fail(third)).toEqual({ out_status: 'already_failed', out_disabled: false });
  });

  it('succeeding closes an attempt once, for its own account only', async () => {
    const a = await account('user', 100, { below: 50, recharge: 200 });
    const other = await account('user', 100, null);
    await take(a, 60);
    const [attempt] = await attempts(a);
    expect(await succeed(attempt.id, other)).toBe('not_found');
    expect(await succeed(randomUUID(), a)).toBe('not_found');
    expect(await succeed(attempt.id, a)).toBe('succeeded');
    expect(await attempts(a)).toEqual([{ id: attempt.id, credits: 200, status: 'succeeded', closed: true }]);
    expect(await succeed(attempt.id, a)).toBe('already_succeeded');
    expect(await fail(attempt.id)).toEqual({ out_status: 'succeeded', out_disabled: false });
    expect(await fail(randomUUID())).toEqual({ out_status: 'not_found', out_disabled: false });
    // A failed attempt stays failed when its purchase is paid late.
    await backdate(a, 60);
    await take(a, 1);
    const open = (await attempts(a)).find((x) => x.status === 'open');
    await fail(open!.id);
    expect(await succeed(open!.id, a)).toBe('failed');
  });

  it('the batch take opens one attempt per account that ends below, whatever the number of events', async () => {
    const a = await account('user', 100, { below: 50, recharge: 200 });
    const b = await account('user', 100, { below: 50, recharge: 300 });
    const c = await account('user', 100, { below: 50, recharge: 400 });
    const ids = [a.accountId, a.accountId, a.accountId, b.accountId, c.accountId];
    const amounts = [20, 20, 20, 10, 0];
    const rows = await q<{ out_status: string }>(
      `SELECT out_status FROM credits_take_events('test', NULL, NULL, '{}', $1::bigint[], $2::int[],
              ARRAY(SELECT gen_random_uuid() FROM generate_series(1, 5))) ORDER BY out_ord`,
      [ids, amounts],
    );
    expect(rows.map((r) => r.out_status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect((await attempts(a)).map((x) => x.credits)).toEqual([200]);
    expect(await attempts(b)).toEqual([]); // 90: above
    expect(await attempts(c)).toEqual([]); // charged nothing
    expect(await events(a)).toHaveLength(1);
  });

  it('a hold at initialize and a settlement’s overrun open it too', async () => {
    const a = await account('user', 100, { below: 50, recharge: 200 });
    const session = `s-${randomUUID()}`;
    const [hold] = await q(
      `SELECT out_status FROM credits_hold(ARRAY[$1::bigint], '{60}', ARRAY[$2::varchar], '{test}', NULL, NULL, '{}')`,
      [a.accountId, session],
    );
    expect(hold).toEqual({ out_status: 'ok' });
    expect((await attempts(a)).map((x) => x.status)).toEqual(['open']);

    const b = await account('user', 100, null);
    const s2 = `s-${randomUUID()}`;
    await q(
      `SELECT out_status FROM credits_hold(ARRAY[$1::bigint], '{10}', ARRAY[$2::varchar], '{test}', NULL, NULL, '{}')`,
      [b.accountId, s2],
    );
    await set(b.accountId, { below: 50, recharge: 300 });
    expect(await attempts(b)).toEqual([]);
    const [settled] = await q(
      `SELECT out_status, out_kept::int, out_collected::int FROM credits_settle($1, $2, 70, 'test', NULL, NULL, '{}')`,
      [b.accountId, s2],
    );
    expect(settled).toEqual({ out_status: 'ok', out_kept: 10, out_collected: 60 });
    expect((await attempts(b)).map((x) => x.credits)).toEqual([300]);
  });

  it('an organisation’s account: its takes open its attempts, and the events name the org', async () => {
    const o = await account('org', 100, { below: 50, recharge: 500 });
    const rows = await q<{ out_status: string }>(
      `SELECT out_status FROM credits_take_events('m1', NULL, NULL, '{}', ARRAY[$1, $1]::bigint[], ARRAY[30, 30],
              ARRAY[gen_random_uuid(), gen_random_uuid()]) ORDER BY out_ord`,
      [o.accountId],
    );
    expect(rows.map((r) => r.out_status)).toEqual(['ok', 'ok']);
    const [attempt] = await attempts(o);
    expect(attempt).toMatchObject({ credits: 500, status: 'open' });
    expect(await events(o)).toEqual([
      {
        type: 'auto_recharge.requested',
        user_id: null,
        data: { attemptId: attempt.id, userId: null, orgId: o.id, credits: 500 },
      },
    ]);
    // A user with the same id is another account.
    expect(await succeed(attempt.id, { ...o, kind: 'user' })).toBe('not_found');
    expect(await succeed(attempt.id, o)).toBe('succeeded');
    // Its single take too.
    await backdate(o, 60);
    expect(await take(o, 1)).toEqual({ out_status: 'ok', out_balance_after: 39 });
    expect((await attempts(o)).map((x) => x.status)).toEqual(['succeeded', 'open']);
  });

  it('parallel takes crossing the threshold open exactly one attempt', async () => {
    const a = await account('user', 100, { below: 50, recharge: 200, interval: 0 });
    const results = await Promise.all(Array.from({ length: 10 }, () => take(a, 10)));
    expect(results.every((r) => r.out_status === 'ok')).toBe(true);
    expect(await attempts(a)).toHaveLength(1);
    expect(await events(a)).toHaveLength(1);
  });
});
