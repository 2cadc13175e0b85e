import { randomUUID } from 'node:crypto';

import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';

/**
 * A member's spend limit as one more cap of the engine (docs/money.md "One decision"; docs/orgs.md
 * "Paying from an organisation"): read and counted under the organisation account's
 * lock in the take, the hold, the settlement and the batch, so parallel charges never pass it
 * together; the pool, the key budget and the hourly window stack with it, and the refusal names the
 * one that binds.
 */
describe('member limits in the engine', () => {
  const db = new pg.Pool({ connectionString: inject('databaseUrl'), max: 12 });
  afterAll(() => db.end());
  const q = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) =>
    (await db.query<T>(sql, params)).rows;
  const tag = randomUUID().slice(0, 8);

  /** An org with `credits` in its pool and members (limit per day, or none). */
  async function org(credits: number, members: Record<string, number | null>): Promise<string> {
    const id = `o-${tag}-${randomUUID().slice(0, 6)}`;
    await q(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'admin')`, [id]);
    for (const [user, limit] of Object.entries(members)) {
      await q(`INSERT INTO user_accounts (user_id) VALUES ($1) ON CONFLICT DO NOTHING`, [user]);
      await q(
        `WITH m AS (INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, 'member'))
         INSERT INTO credit_caps (subject_kind, subject_id, account_id, credit_limit, period)
         SELECT 'member', $2, (SELECT account_id FROM accounts WHERE org_id = $1), $3::bigint, 'day' WHERE $3::bigint IS NOT NULL`,
        [id, user, limit],
      );
    }
    if (credits > 0) {
      await q(
        `SELECT 1 FROM credits_grant((SELECT account_id FROM accounts WHERE org_id = $1), $2, 'admin', now() + interval '1 day', NULL, 'manual', NULL, NULL, NULL, false)`,
        [id, credits],
      );
    }
    return id;
  }
  const take = async (orgId: string, member: string, amount: number, key: string | null = null) =>
    (
      await q<{ out_status: string }>(
        `SELECT out_status FROM credits_take_events($3, $4::uuid, NULL, '{}', ARRAY[(SELECT account_id FROM accounts WHERE org_id = $1)],
                                                    ARRAY[$2::int], ARRAY[NULL::uuid], ARRAY[$3::varchar])`,
        [orgId, amount, member, key],
      )
    )[0].out_status;
  const spent = async (orgId: string, member: string) =>
    Number(
      (
        await q<{ n: string }>(
          `SELECT credit_cap_spent('member', $2, (SELECT account_id FROM accounts WHERE org_id = $1), 'day', now()) AS n`,
          [orgId, member],
        )
      )[0].n,
    );
  const pool = async (orgId: string) =>
    Number(
      (
        await q<{ n: string }>(`SELECT credit_available((SELECT account_id FROM accounts WHERE org_id = $1)) AS n`, [
          orgId,
        ])
      )[0].n,
    );
  const limitEvents = async (orgId: string) =>
    q<{ data: Record<string, unknown> }>(
      `SELECT data FROM events WHERE type = 'org.member_limit_reached' AND data->>'orgId' = $1 ORDER BY created_at`,
      [orgId],
    );
  const u = (name: string) => `${name}-${tag}`;

  it('20 parallel takes of 5 by a member limited to 50: exactly 10 pass, one event', async () => {
    const m = u('lim50');
    const o = await org(1000, { [m]: 50 });
    const statuses = await Promise.all(Array.from({ length: 20 }, () => take(o, m, 5)));
    expect(statuses.filter((s) => s === 'ok')).toHaveLength(10);
    expect(statuses.filter((s) => s === 'member_limit')).toHaveLength(10);
    expect(await spent(o, m)).toBe(50);
    expect(await pool(o)).toBe(950);
    expect(await limitEvents(o)).toEqual([
      { data: { orgId: o, userId: m, limit: 50, spentInPeriod: 50, period: 'day' } },
    ]);
    // The ledger names the member on the org account's lines.
    const [line] = await q<{ member_id: string; n: number }>(
      `SELECT member_id, count(*)::int AS n FROM credit_ledger WHERE account_id = (SELECT account_id FROM accounts WHERE org_id = $1)
          AND kind = 'debit' GROUP BY member_id`,
      [o],
    );
    expect(line).toEqual({ member_id: m, n: 10 });
    // A 0-credit charge is never refused by the cap.
    expect(await take(o, m, 0)).toBe('ok');
  });

  it('a pool of 30 shared by two members: exactly 10 takes of 3 pass', async () => {
    const [a, b] = [u('poolA'), u('poolB')];
    const o = await org(30, { [a]: null, [b]: null });
    const statuses = await Promise.all(Array.from({ length: 20 }, (_, i) => take(o, i % 2 ? a : b, 3)));
    expect(statuses.filter((s) => s === 'ok')).toHaveLength(10);
    expect(statuses.filter((s) => s === 'insufficient')).toHaveLength(10);
    expect(await pool(o)).toBe(0);
    expect((await spent(o, a)) + (await spent(o, b))).toBe(30);
  });

  it('a hold counts, its settlement replaces it by the actual, a release gives it back', async () => {
    const m = u('hold');
    const o = await org(1000, { [m]: 100 });
    const hold = async (session: string, amount: number) =>
      (
        await q<{ out_status: string }>(
          `SELECT out_status FROM credits_hold(ARRAY[(SELECT account_id FROM accounts WHERE org_id = $1)], ARRAY[$2::int], ARRAY[$3::varchar], ARRAY[$4::varchar], NULL, NULL, '{}', ARRAY[$4::varchar])`,
          [o, amount, session, m],
        )
      )[0].out_status;
    const settle = async (session: string, charge: number) =>
      (
        await q<{ out_status: string; out_refund: string; out_collected: string }>(
          `SELECT out_status, out_refund, out_collected FROM credits_settle((SELECT account_id FROM accounts WHERE org_id = $1), $2, $3, $4, NULL, NULL, '{}', $4)`,
          [o, session, charge, m],
        )
      )[0];
    const [s1, s2, s3, s4] = ['s1', 's2', 's3', 's4'].map((s) => `${s}-${tag}`);
    expect(await hold(s1, 60)).toBe('ok');
    expect(await spent(o, m)).toBe(60);
    expect(await hold(s2, 50)).toBe('member_limit');
    expect(await settle(s1, 40)).toMatchObject({ out_status: 'ok', out_refund: '20' });
    expect(await spent(o, m)).toBe(40);
    expect(await hold(s2, 50)).toBe('ok');
    expect(await spent(o, m)).toBe(90);
    // An overrun counts and may pass the limit.
    expect(await settle(s2, 70)).toMatchObject({ out_status: 'ok', out_refund: '0', out_collected: '20' });
    expect(await spent(o, m)).toBe(110);
    expect(await take(o, m, 1)).toBe('member_limit');
    expect(await limitEvents(o)).toHaveLength(1);
    // A released hold (charge 0) comes back off the counter.
    await q(
      `UPDATE credit_caps SET credit_limit = 200
        WHERE subject_kind = 'member' AND subject_id = $2 AND account_id = (SELECT account_id FROM accounts WHERE org_id = $1)`,
      [o, m],
    );
    expect(await hold(s3, 30)).toBe('ok');
    expect(await spent(o, m)).toBe(140);
    expect(await settle(s3, 0)).toMatchObject({ out_status: 'ok', out_refund: '30' });
    expect(await spent(o, m)).toBe(110);
    // Changing the limit never reset what was spent; a removed member's open session still settles.
    expect(await hold(s4, 10)).toBe('ok');
    await q(`UPDATE org_members SET removed_at = now() WHERE org_id = $1 AND user_id = $2`, [o, m]);
    expect(await take(o, m, 1)).toBe('not_a_member');
    expect(await hold(`s5-${tag}`, 1)).toBe('not_a_member');
    // …capped at its hold (docs/orgs.md "Leaving"): the 2 beyond it are a shortfall, not the pool's.
    expect(await settle(s4, 12)).toMatchObject({ out_status: 'ok', out_collected: '0' });
    expect(await spent(o, m)).toBe(120);
    expect(await pool(o)).toBe(1000 - 40 - 70 - 10);
    const lines = await q<{ member_id: string | null }>(
      `SELECT DISTINCT member_id FROM credit_ledger WHERE account_id = (SELECT account_id FROM accounts WHERE org_id = $1) AND kind <> 'grant'`,
      [o],
    );
    expect(lines).toEqual([{ member_id: m }]);
  });

  it('not a member: nothing taken', async () => {
    const m = u('member');
    const o = await org(100, { [m]: null });
    const other = await org(100, {});
    expect(await take(o, u('stranger'), 5)).toBe('not_a_member');
    expect(await take(other, m, 5)).toBe('not_a_member');
    expect(await pool(o)).toBe(100);
    expect(await pool(other)).toBe(100);
  });

  it('stacked caps: the binding one is named, key budget, then member limit, then the window', async () => {
    const m = u('stack');
    const o = await org(1000, { [m]: 30 });
    const [{ id: key }] = await q<{ id: string }>(
      `WITH k AS (INSERT INTO api_keys (user_id, name, key_hash, prefix, org_id)
                  VALUES ($1, 'k', sha256(gen_random_uuid()::text::bytea), 'ak_x', $2) RETURNING id, user_id)
       INSERT INTO credit_caps (subject_kind, subject_id, account_id, credit_limit, period, owner_id)
       SELECT 'key', k.id, 0, 20, 'day', k.user_id FROM k RETURNING subject_id AS id`,
      [m, o],
    );
    await q(
      `INSERT INTO credit_accounts (account_id, max_credits_per_hour) VALUES ((SELECT account_id FROM accounts WHERE org_id = $1), 25)
       ON CONFLICT (account_id) DO UPDATE SET max_credits_per_hour = 25`,
      [o],
    );
    expect(await take(o, m, 15, key)).toBe('ok');
    // the key budget (20) binds first: 15 + 10 > 20, also past the window (25) and the member (30)
    expect(await take(o, m, 10, key)).toBe('key_limit');
    // without the key: the member has 15 of 30 left, the window 10 of 25: the window binds
    expect(await take(o, m, 11)).toBe('rate_limited');
    expect(await take(o, m, 10)).toBe('ok');
    // now the member has 5 left and the window 0: the member's limit is checked before the window
    expect(await take(o, m, 6)).toBe('member_limit');
    expect(await spent(o, m)).toBe(25);
    // the pool binds after every cap
    await q(
      `UPDATE credit_caps SET credit_limit = NULL, period = NULL
        WHERE subject_kind = 'member' AND subject_id = $2 AND account_id = (SELECT account_id FROM accounts WHERE org_id = $1)`,
      [o, m],
    );
    await q(
      `UPDATE credit_accounts SET max_credits_per_hour = NULL WHERE account_id = (SELECT account_id FROM accounts WHERE org_id = $1)`,
      [o],
    );
    expect(await take(o, m, 976)).toBe('insufficient');
    expect(await take(o, m, 975)).toBe('ok');
  });

  it('a batch mixes users and organisations, member caps counted per event', async () => {
    const [a, b] = [u('batchA'), u('batchB')];
    const o = await org(100, { [a]: 10, [b]: null });
    const solo = u('solo');
    await q(`INSERT INTO user_accounts (user_id) VALUES ($1)`, [solo]);
    await q(
      `SELECT 1 FROM credits_grant((SELECT account_id FROM accounts WHERE user_id = $1), 50, 'admin', now() + interval '1 day', NULL, 'manual', NULL, NULL, NULL, false)`,
      [solo],
    );
    // The same id as a user and as an org never mix: the user `o` has no account.
    const events: [string, string, string | null, number][] = [
      ['user', solo, null, 5],
      ['org', o, a, 6],
      ['org', o, a, 5], // past a's limit of 10
      ['org', o, b, 7],
      ['org', o, u('stranger'), 1],
      ['user', solo, null, 50], // past the user's balance
      ['org', o, a, 4],
    ];
    const rows = await q<{ out_status: string; out_balance: string }>(
      `SELECT out_status, out_balance
         FROM credits_take_events('svc', NULL, NULL, '{}',
                                  (SELECT array_agg((SELECT account_id FROM accounts WHERE kind = u.kind AND u.owner IN (user_id, org_id)) ORDER BY u.i)
                                     FROM unnest($3::varchar[], $1::varchar[]) WITH ORDINALITY AS u(kind, owner, i)),
                                  $2::int[], (SELECT array_agg(gen_random_uuid()) FROM generate_series(1, $5)),
                                  $4::varchar[])
        ORDER BY out_ord`,
      [
        events.map((e) => e[1]),
        events.map((e) => e[3]),
        events.map((e) => e[0]),
        events.map((e) => e[2]),
        events.length,
      ],
    );
    expect(rows.map((r) => r.out_status)).toEqual([
      'ok',
      'ok',
      'member_limit',
      'ok',
      'not_a_member',
      'insufficient',
      'ok',
    ]);
    expect(await spent(o, a)).toBe(10);
    expect(await spent(o, b)).toBe(7);
    expect(await pool(o)).toBe(100 - 17);
    expect(await limitEvents(o)).toEqual([
      { data: { orgId: o, userId: a, limit: 10, spentInPeriod: 10, period: 'day' } },
    ]);
    const lines = await q<{ member_id: string; n: number }>(
      `SELECT member_id, sum(-amount)::int AS n FROM credit_ledger WHERE account_id = (SELECT account_id FROM accounts WHERE org_id = $1)
          AND kind = 'debit' GROUP BY member_id ORDER BY member_id`,
      [o],
    );
    expect(lines).toEqual(
      [
        { member_id: a, n: 10 },
        { member_id: b, n: 7 },
      ].sort((x, y) => (x.member_id < y.member_id ? -1 : 1)),
    );
  });

  it('spend by period: days, ISO weeks from Monday, months (UTC)', async () => {
    const m = u('period');
    const o = await org(0, { [m]: null });
    // Wednesday 2026-07-15; Monday 2026-07-13; Sunday 2026-07-12; 2026-07-01; 2026-06-30.
    for (const [day, n] of [
      ['2026-06-30', 1],
      ['2026-07-01', 10],
      ['2026-07-12', 100],
      ['2026-07-13', 1000],
      ['2026-07-15', 10000],
    ] as const) {
      await q(
        `INSERT INTO credit_cap_spend (subject_kind, subject_id, account_id, period_start, spent)
         VALUES ('member', $2, (SELECT account_id FROM accounts WHERE org_id = $1), $3::timestamp AT TIME ZONE 'UTC', $4)`,
        [o, m, day, n],
      );
    }
    const at = '2026-07-15T23:59:59Z';
    const [r] = await q<{ day: string; week: string; month: string; sunday: string }>(
      `SELECT credit_cap_spent('member', $2, o.id, 'day', $3) AS day, credit_cap_spent('member', $2, o.id, 'week', $3) AS week,
              credit_cap_spent('member', $2, o.id, 'month', $3) AS month,
              credit_cap_spent('member', $2, o.id, 'week', '2026-07-12T12:00:00Z') AS sunday
         FROM (SELECT (SELECT account_id FROM accounts WHERE org_id = $1) AS id) o`,
      [o, m, at],
    );
    expect(r).toEqual({ day: '10000', week: '11000', month: '11110', sunday: '100' });
  });
});
