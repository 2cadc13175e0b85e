import { randomUUID } from 'node:crypto';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/**
 * The take's steps, each called alone in SQL on crafted rows (docs/money.md "The take"): the take,
 * credits_take_events(), is a list of them, and test/take-model.int-spec.ts and
 * test/credits-decision.int-spec.ts hold the whole to its model. Each case runs in a transaction
 * rolled back, on the run's migrated database.
 */
describe('the take, step by step', () => {
  const db = new pg.Client({ connectionString: inject('databaseUrl') });
  beforeAll(() => db.connect());
  afterAll(() => db.end());
  const tag = randomUUID().slice(0, 8);

  const q = async <T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = []) =>
    (await db.query<T>(sql, params)).rows;
  /** One case, in a transaction rolled back. */
  const rolledBack = async (body: () => Promise<void>) => {
    await db.query('BEGIN');
    try {
      await body();
    } finally {
      await db.query('ROLLBACK');
    }
  };
  /** A user's account, made for the case; its id. */
  const userAccount = async (name: string) => {
    const user = `take-steps-${tag}-${name}`;
    await q(`INSERT INTO user_accounts (user_id) VALUES ($1)`, [user]);
    return (await q<{ id: string }>(`SELECT account_id::text AS id FROM accounts WHERE user_id = $1`, [user]))[0].id;
  };
  /** An organisation's account with its members, each with a daily limit or none. */
  const orgAccount = async (members: Record<string, number | null>) => {
    const org = `take-steps-${tag}-org`;
    await q(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'admin')`, [org]);
    const id = (await q<{ id: string }>(`SELECT account_id::text AS id FROM accounts WHERE org_id = $1`, [org]))[0].id;
    for (const [member, limit] of Object.entries(members)) {
      await q(`INSERT INTO user_accounts (user_id) VALUES ($1)`, [member]);
      await q(`INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, 'member')`, [org, member]);
      if (limit !== null) {
        await q(
          `INSERT INTO credit_caps (subject_kind, subject_id, account_id, credit_limit, period) VALUES ('member', $1, $2, $3, 'day')`,
          [member, id, limit],
        );
      }
    }
    return { org, id };
  };
  /** A budgeted key's cap row (the key itself is not read by the take); its id. */
  const keyCap = async (limit: number) => {
    const key = randomUUID();
    const owner = `take-steps-${tag}-owner`;
    await q(`INSERT INTO user_accounts (user_id) VALUES ($1) ON CONFLICT DO NOTHING`, [owner]);
    await q(
      `INSERT INTO credit_caps (subject_kind, subject_id, account_id, credit_limit, period, owner_id) VALUES ('key', $1, 0, $2, 'day', $3)`,
      [key, limit, owner],
    );
    return key;
  };
  /** A live allocation of `credits` expiring in `days`; its id. */
  const lot = async (account: string, credits: number, days: number, remaining = credits) =>
    (
      await q<{ id: string }>(
        `INSERT INTO credit_allocations (account_id, total_credits, remaining_credits, allocated_by, expires_at)
         VALUES ($1, $2, $3, 'test', now() + make_interval(days => $4)) RETURNING id`,
        [account, credits, remaining, days],
      )
    )[0].id;

  it('credit_take_accounts: each account once, locked in id order, with its organisation when a member is named', async () => {
    await rolledBack(async () => {
      const a = await userAccount('a');
      const b = await userAccount('b');
      const { org, id: o } = await orgAccount({ [`take-steps-${tag}-m`]: null });
      const [many] = await q(`SELECT * FROM credit_take_accounts($1::bigint[], $2::varchar[])`, [
        [b, a, null, b, o],
        [null, null, null, null, 'm'],
      ]);
      // an event without an account is account 0, which no account has: first, unknown
      expect(many.out_acc).toEqual([null, a, b, o]);
      expect(many.out_known).toEqual([false, true, true, true]);
      expect(many.out_u).toEqual([3, 2, 1, 3, 4]);
      expect(many.out_org).toEqual([null, null, null, org]);
      // no member named: no organisation read
      const [users] = await q(`SELECT * FROM credit_take_accounts($1::bigint[], NULL)`, [[b, o]]);
      expect(users.out_org).toBeNull();
      const [one] = await q(`SELECT * FROM credit_take_accounts($1::bigint[], $2::varchar[])`, [[o], ['m']]);
      expect(one).toEqual({ out_u: [1], out_acc: [o], out_known: [true], out_org: [org] });
      const [unknown] = await q(`SELECT * FROM credit_take_accounts(ARRAY[999999999::bigint], ARRAY['m'])`);
      expect(unknown).toEqual({ out_u: [1], out_acc: [null], out_known: [false], out_org: [null] });
      // the lock is held: a row lock on each known account
      const [{ locked }] = await q<{ locked: number }>(
        `SELECT count(*)::int AS locked FROM accounts WHERE account_id = ANY ($1::bigint[]) AND xmax::text::bigint = txid_current() % 4294967296`,
        [[a, b, o]],
      );
      expect(locked).toBe(3);
    });
  });

  it('credit_take_members: each (organisation, member) pair once, with its limit and what it spent today', async () => {
    await rolledBack(async () => {
      const [m1, m2, gone] = ['m1', 'm2', 'gone'].map((m) => `take-steps-${tag}-${m}`);
      const { org, id: o } = await orgAccount({ [m1]: 10, [m2]: null, [gone]: 5 });
      const u = await userAccount('u');
      await q(`UPDATE org_members SET removed_at = now() WHERE org_id = $1 AND user_id = $2`, [org, gone]);
      await q(
        `SELECT credit_cap_spend_add('member', ARRAY[$1], ARRAY[$2::bigint], date_trunc('day', now(), 'UTC'), ARRAY[4::bigint])`,
        [m1, o],
      );
      const [many] = await q(
        `SELECT * FROM credit_take_members($1::int[], $2::varchar[], $3::bigint[], $4::varchar[])`,
        [
          [1, 1, 1, 2, 1],
          [m2, m1, m2, m1, null],
          [o, u],
          [org, null],
        ],
      );
      expect(many).toEqual({
        out_m: [2, 1, 2, null, null],
        out_u: [1, 1],
        out_member: [m1, m2],
        out_found: [true, true],
        out_removed: [false, false],
        out_limit: ['10', null],
        out_period: ['day', null],
        out_spent: ['4', '0'],
      });
      const [one] = await q(
        `SELECT * FROM credit_take_members(ARRAY[1], ARRAY[$1::varchar], ARRAY[$2::bigint], ARRAY[$3::varchar])`,
        [gone, o, org],
      );
      expect(one).toMatchObject({
        out_m: [1],
        out_found: [true],
        out_removed: [true],
        out_limit: ['5'],
        out_spent: ['0'],
      });
      const [stranger] = await q(
        `SELECT * FROM credit_take_members(ARRAY[1], ARRAY['nobody'], ARRAY[$1::bigint], ARRAY[$2::varchar])`,
        [o, org],
      );
      expect(stranger).toMatchObject({ out_m: [1], out_found: [false], out_limit: [null] });
      const [user] = await q(
        `SELECT * FROM credit_take_members(ARRAY[1], ARRAY['x'], ARRAY[$1::bigint], ARRAY[NULL::varchar])`,
        [u],
      );
      expect(user).toMatchObject({ out_m: [null], out_u: null });
    });
  });

  it('credit_take_settings: hourly limit, overdraft, debt, the hour spent and the top threshold', async () => {
    await rolledBack(async () => {
      const a = await userAccount('a');
      const b = await userAccount('b');
      const [{ minute }] = await q<{ minute: string }>(
        `SELECT floor(extract(epoch FROM now()) / 60)::bigint AS minute`,
      );
      // 7 spent this minute, 5 two minutes ago, 9 an hour and more ago (its slot cleared)
      await q(
        `INSERT INTO credit_accounts (account_id, max_credits_per_hour, overdraft_limit, low_balance_thresholds, spend_minute, spend_window,
                                      recharge_below)
         SELECT $1, 100, 50, '{10,30}', $2::bigint,
                (SELECT array_agg(CASE s WHEN ($2::bigint % 60) + 1 THEN 7 WHEN (($2::bigint - 2) % 60) + 1 THEN 5 ELSE 0 END ORDER BY s)
                   FROM generate_series(1, 60) s), 20`,
        [a, minute],
      );
      const [one] = await q(`SELECT * FROM credit_take_settings(ARRAY[$1::bigint], NULL, '{5}', $2)`, [a, minute]);
      expect(one).toEqual({
        out_limit: [100],
        out_overdraft: [50],
        out_owed: ['0'],
        out_used: ['12'],
        out_recharge: true,
        out_top_threshold: 30,
      });
      // an hour later only what was spent in the hour counts
      const [later] = await q(`SELECT out_used FROM credit_take_settings(ARRAY[$1::bigint], NULL, NULL, $2 + 59)`, [
        a,
        minute,
      ]);
      expect(later.out_used).toEqual(['7']);
      const [two] = await q(`SELECT * FROM credit_take_settings($1::bigint[], 40, '{45}', $2)`, [[a, b], minute]);
      expect(two).toEqual({
        out_limit: [100, 40],
        out_overdraft: [50, null],
        out_owed: ['0', '0'],
        out_used: ['12', '0'],
        out_recharge: true,
        out_top_threshold: 45,
      });
    });
  });

  it('credit_take_key: the key budget locked, its period and what the key spent in it', async () => {
    await rolledBack(async () => {
      const key = await keyCap(20);
      await q(
        `SELECT credit_cap_spend_add('key', ARRAY[$1::varchar], ARRAY[NULL::bigint], credit_key_period_start('day', now()), ARRAY[6::bigint])`,
        [key],
      );
      const [budgeted] = await q(
        `SELECT k.*, k.out_start = credit_key_period_start('day', now()) AS starts_today FROM credit_take_key($1::uuid) k`,
        [key],
      );
      expect(budgeted).toMatchObject({ out_limit: 20, out_period: 'day', out_spent: '6', starts_today: true });
      const [free] = await q(`SELECT * FROM credit_take_key($1::uuid)`, [randomUUID()]);
      expect(free).toEqual({ out_limit: null, out_period: null, out_start: null, out_spent: '0' });
      const [none] = await q(`SELECT * FROM credit_take_key(NULL)`);
      expect(none.out_spent).toBe('0');
    });
  });

  it('credit_take_lots: the live lots soonest-expiring first, grouped by account, with each balance', async () => {
    await rolledBack(async () => {
      const a = await userAccount('a');
      const b = await userAccount('b');
      const later = await lot(a, 5, 2);
      const sooner = await lot(a, 3, 1);
      await lot(a, 4, -1); // expired: never pays
      const bs = await lot(b, 6, 3);
      const [one] = await q(`SELECT * FROM credit_take_lots(ARRAY[$1::bigint])`, [a]);
      expect(one).toEqual({
        out_id: [sooner, later],
        out_remaining: [3, 5],
        out_first: [1],
        out_last: [2],
        out_available: ['8'],
      });
      const empty = await userAccount('c');
      const [many] = await q(`SELECT * FROM credit_take_lots($1::bigint[])`, [[a, empty, b]]);
      expect(many).toEqual({
        out_id: [sooner, later, bs],
        out_remaining: [3, 5, 6],
        out_first: [1, 0, 3],
        out_last: [2, 0, 3],
        out_available: ['8', '0', '6'],
      });
      const [none] = await q(`SELECT * FROM credit_take_lots(ARRAY[$1::bigint])`, [empty]);
      expect(none).toEqual({ out_id: [], out_remaining: [], out_first: [0], out_last: [0], out_available: ['0'] });
    });
  });

  it('credit_take_decide: each event on what the events before left, in memory', async () => {
    await rolledBack(async () => {
      const a = await userAccount('a');
      await q(
        `INSERT INTO credit_accounts (account_id, overdraft_limit, low_balance_thresholds) VALUES ($1, 3, '{5}')`,
        [a],
      );
      const [d] = await q(
        `SELECT d.* FROM credit_take_decide(ARRAY[1, 1, 1, 1, 1, 2], $2::int[], $3::varchar[], $4::varchar[], NULL, NULL,
                                            credit_take_accounts(ARRAY[$1::bigint, 999999999], NULL),
                                            credit_take_settings(ARRAY[$1::bigint, 999999999], NULL, NULL, 0), ARRAY[10, 0]::bigint[],
                                            NULL::record, NULL, NULL::record, NULL::record, 0) d`,
        [
          a,
          [4, 12, 0, 8, 2, 1],
          ['debit', 'debit', 'hold', 'debit', 'debit', 'debit'],
          ['strict', 'strict', 'strict', 'strict', 'collect', 'strict'],
        ],
      );
      // 10 - 4 = 6; 12 > 6 + 3 headroom; a hold of 0 moves nothing; 8: 6 from the lots and 2 of debt
      // (headroom 3); a collect of 2 on an empty balance is debt whatever the limit; no account
      expect(d.out_status).toEqual(['ok', 'insufficient', 'ok', 'ok', 'ok', 'no_account']);
      expect(d.out_collected).toEqual(['4', '0', '0', '6', '0', '0']);
      expect(d.out_debt).toEqual(['0', '0', '0', '2', '2', '0']);
      expect(d.out_before).toEqual(['10', '0', '6', '6', '0', '0']);
      expect(d.out_balance).toEqual(['6', '9', '6', '0', '0', '0']);
      expect(d.out_available).toEqual(['10', '6', '6', '6', '0', '0']);
      expect(d.out_headroom).toEqual(['3', '3', '0', '3', '2', '0']);
      expect(d.out_account_available).toEqual(['0', '0']);
      // 6 → 0 crosses the threshold of 5: the take asks for the alerts
      expect(d.out_alerts).toBe(true);
      expect(d.out_key_charged).toBeNull();
      expect(d.out_window_added).toEqual(['0', '0']);
    });
  });

  it('credit_take_decide: the key, the member and the hourly window count what passed; the first cap that binds refuses', async () => {
    await rolledBack(async () => {
      const m = `take-steps-${tag}-m`;
      const { id: o } = await orgAccount({ [m]: 6 });
      await q(`INSERT INTO credit_accounts (account_id, max_credits_per_hour) VALUES ($1, 100)`, [o]);
      const key = await keyCap(8);
      const [d] = await q(
        `SELECT d.* FROM credit_take_decide(ARRAY[1, 1, 1], ARRAY[5, 2, 1], ARRAY['debit', 'debit', 'debit'], ARRAY['strict', 'strict', 'strict'],
                                            ARRAY[$2, $2, $2]::varchar[], NULL, credit_take_accounts(ARRAY[$1::bigint], ARRAY[$2]),
                                            credit_take_settings(ARRAY[$1::bigint], NULL, NULL, 0), ARRAY[100]::bigint[],
                                            credit_take_members(ARRAY[1, 1, 1], ARRAY[$2, $2, $2]::varchar[], ARRAY[$1::bigint],
                                                                ARRAY[(SELECT account_org_id($1))]),
                                            $3::uuid, credit_take_key($3::uuid), NULL::record, 0) d`,
        [o, m, key],
      );
      // 5 passes; 5 + 2 passes the member's 6 before the key's 8; 1 reaches the member's limit
      expect(d.out_status).toEqual(['ok', 'member_limit', 'ok']);
      expect(d.out_member_added).toEqual(['6']);
      expect(d.out_key_charged).toBe('6');
      expect(d.out_window_added).toEqual(['6']);
      // the member's limit was reached by the third: its event was sent, in the transaction
      const [{ n }] = await q<{ n: number }>(
        `SELECT count(*)::int AS n FROM events WHERE type = 'org.member_limit_reached' AND data->>'userId' = $1`,
        [m],
      );
      expect(n).toBe(1);
    });
  });

  it("credit_take_budget_room, _refused and _count: an event's budgets as one cap", async () => {
    await rolledBack(async () => {
      const a = await userAccount('a');
      await q(
        `INSERT INTO credit_budgets (budget_id, account_id, scope_kind, scope_id, credit_limit, created_by)
         VALUES ($1, $2, 'project', 'p', 10, 'test')`,
        [`take-steps-${tag}-p`, a],
      );
      await q(
        `INSERT INTO credit_budgets (budget_id, account_id, scope_kind, scope_id, parent_budget_id, credit_limit, created_by)
         VALUES ($1, $2, 'run', 'r', $3, 4, 'test')`,
        [`take-steps-${tag}-r`, a, `take-steps-${tag}-p`],
      );
      const caps = `credit_budget_caps(ARRAY[$1::bigint, $1], ARRAY['{"project":"p","run":"r"}', '{"project":"p"}']::jsonb[])`;
      const [room] = await q<{ both: string; project: string; added: string }>(
        `SELECT credit_take_budget_room(c, c.out_from[1], c.out_to[1], c.out_added)::text AS both,
                credit_take_budget_room(c, c.out_from[2], c.out_to[2], ARRAY[3, 1]::bigint[])::text AS project,
                credit_take_budget_room(c, NULL, NULL, c.out_added)::text AS added
           FROM ${caps} c`,
        [a],
      );
      // the run's 4 is the least room of the run and its project; with 3 added to the project, 7 is left
      expect(room).toEqual({ both: '4', project: '7', added: null });
      const [refused] = await q<{ parts: unknown }>(
        `SELECT credit_take_budget_refused(c, c.out_from[1], c.out_to[1], ARRAY[0, 1]::bigint[], 4) AS parts FROM ${caps} c`,
        [a],
      );
      expect(refused.parts).toEqual({ budgetId: `take-steps-${tag}-r`, limit: 4, used: 1, held: 0 });
      const [counted] = await q<{ added: string[] }>(
        `SELECT credit_take_budget_count(c, c.out_from[1], c.out_to[1], c.out_added, 4, 4) AS added FROM ${caps} c`,
        [a],
      );
      expect(counted.added.map(Number).sort()).toEqual([4, 4]);
      // 4 brought the run to its limit: budget.reached, once
      const [{ n }] = await q<{ n: number }>(
        `SELECT count(*)::int AS n FROM events WHERE type = 'budget.reached' AND data->>'budgetId' = $1`,
        [`take-steps-${tag}-r`],
      );
      expect(n).toBe(1);
    });
  });

  it("credit_take_volume and _charges: the price after the take's earlier charges, kept once let through", async () => {
    await rolledBack(async () => {
      const a = await userAccount('a');
      const b = await userAccount('b');
      const volume = {
        model: `take-steps-${tag}`,
        mode: 'graduated',
        period: 'month',
        steps: [
          [100, 100],
          [null, 50],
        ],
        tokens: 80,
        base: '8',
        expiryDays: 30,
      };
      // 80 tokens at the first step: 8 credits; then 80 more after them: 20 at 100 %, 60 at 50 %
      const [first] = await q(
        `SELECT * FROM credit_take_volume($1::bigint, $2::jsonb, array_fill(NULL::jsonb, ARRAY[1]))`,
        [a, volume],
      );
      expect(first).toMatchObject({ out_amount: 8, out_step: 0 });
      const [second] = await q(`SELECT * FROM credit_take_volume($1::bigint, $2::jsonb, ARRAY[$3::jsonb, NULL])`, [
        a,
        volume,
        first.out_charge,
      ]);
      expect(second).toMatchObject({ out_amount: 5, out_step: 1 });
      // another account's charges are not this one's total
      const [other] = await q(`SELECT * FROM credit_take_volume($1::bigint, $2::jsonb, ARRAY[$3::jsonb, NULL])`, [
        b,
        volume,
        first.out_charge,
      ]);
      expect(other).toMatchObject({ out_amount: 8, out_step: 0 });
      await q(`SELECT credit_take_volume_charges(ARRAY[$1::jsonb, NULL, $2::jsonb], NULL, NULL, 'take-steps', NULL)`, [
        first.out_charge,
        second.out_charge,
      ]);
      const totals = await q(
        `SELECT tokens::int, cost::int FROM credit_volume_totals WHERE account_id = $1 AND model_id = $2`,
        [a, volume.model],
      );
      expect(totals).toEqual([{ tokens: 160, cost: 13 }]);
    });
  });

  it('credit_take_fifo: the lots walked in event order into ledger lines, then the overdraft line', async () => {
    await rolledBack(async () => {
      const a = await userAccount('a');
      const first = await lot(a, 3, 1);
      const second = await lot(a, 5, 2);
      const [f] = await q(
        `SELECT f.* FROM credit_take_fifo(ARRAY[1, 1, 1, 1], ARRAY['ok', 'ok', 'insufficient', 'ok'], ARRAY[2, 4, 0, 1]::bigint[],
                                          ARRAY[0, 0, 0, 2]::bigint[], ARRAY[8, 6, 0, 2]::bigint[], ARRAY['debit', 'hold', 'debit', 'debit'],
                                          array_fill(NULL::uuid, ARRAY[4]), NULL, ARRAY[NULL, 's', NULL, NULL], NULL, NULL,
                                          ARRAY[$1::bigint], credit_take_lots(ARRAY[$1::bigint]), array_fill('[]'::jsonb, ARRAY[4])) f`,
        [a],
      );
      expect(f.out_allocations).toEqual([first, first, second, second, null]);
      expect(f.out_kinds).toEqual(['debit', 'hold', 'hold', 'debit', 'overdraft']);
      expect(f.out_amounts).toEqual([-2, -1, -3, -1, -2]);
      expect(f.out_balances).toEqual(['6', '5', '2', '1', '1']);
      expect(f.out_sessions).toEqual([null, 's', 's', null, null]);
      expect(f.out_accounts).toEqual([a, a, a, a, a]);
      expect(f.out_parts).toEqual([
        [],
        [
          { allocationId: first, amount: 1 },
          { allocationId: second, amount: 3 },
        ],
        [],
        [],
      ]);
    });
  });

  it('credit_take_write: the lines by one call of the one writer, grouped by session in the order they happened', async () => {
    await rolledBack(async () => {
      // the transaction's own function calls counted (pg_stat_xact_user_functions)
      await q(`SET LOCAL track_functions = 'all'`);
      const a = await userAccount('a');
      const first = await lot(a, 3, 1);
      const second = await lot(a, 5, 2);
      await q(
        `SELECT credit_take_write(f, NULL, 'take-steps')
           FROM credit_take_fifo(ARRAY[1, 1, 1], ARRAY['ok', 'ok', 'ok'], ARRAY[2, 4, 1]::bigint[], ARRAY[0, 0, 1]::bigint[],
                                 ARRAY[8, 6, 2]::bigint[], ARRAY['debit', 'hold', 'debit'], array_fill(NULL::uuid, ARRAY[3]), NULL,
                                 ARRAY['s1', 's2', 's1'], NULL, NULL, ARRAY[$1::bigint], credit_take_lots(ARRAY[$1::bigint]),
                                 array_fill('[]'::jsonb, ARRAY[3])) f`,
        [a],
      );
      const lines = await q(
        `SELECT session_id, allocation_id, kind, amount, balance_after::int AS balance, created_by FROM credit_ledger
          WHERE account_id = $1 ORDER BY id`,
        [a],
      );
      // s1's lines (events 1 and 3) first, as its first line came first, then s2's
      expect(lines).toEqual([
        { session_id: 's1', allocation_id: first, kind: 'debit', amount: -2, balance: 6, created_by: 'take-steps' },
        { session_id: 's1', allocation_id: second, kind: 'debit', amount: -1, balance: 1, created_by: 'take-steps' },
        { session_id: 's1', allocation_id: null, kind: 'overdraft', amount: -1, balance: 1, created_by: 'take-steps' },
        { session_id: 's2', allocation_id: first, kind: 'hold', amount: -1, balance: 5, created_by: 'take-steps' },
        { session_id: 's2', allocation_id: second, kind: 'hold', amount: -3, balance: 2, created_by: 'take-steps' },
      ]);
      const lots = await q(
        `SELECT remaining_credits AS r FROM credit_allocations WHERE account_id = $1 ORDER BY expires_at`,
        [a],
      );
      expect(lots).toEqual([{ r: 0 }, { r: 1 }]);
      const [{ debt }] = await q(`SELECT debt FROM credit_accounts WHERE account_id = $1`, [a]);
      expect(debt).toBe(1);
      // two sessions' lines, one call: each allocation updated once, not once a session
      const [{ calls }] = await q(
        `SELECT calls::int FROM pg_stat_xact_user_functions WHERE funcname = 'credit_ledger_write'`,
      );
      expect(calls).toBe(1);
    });
  });

  it("credit_take_one: a lone event that is one line, taken on the steps' reads; any other declined, nothing moved", async () => {
    await rolledBack(async () => {
      const a = await userAccount('a');
      const first = await lot(a, 5, 1);
      await lot(a, 4, 2); // expires later: never reached while the first lot covers the event
      const budgeted = await keyCap(100);
      const unbudgeted = randomUUID();
      await q(`INSERT INTO credit_accounts (account_id, low_balance_thresholds) VALUES ($1, '{3}')`, [a]);
      /** credit_take_one() of one event of account $1 on the reads the take makes before it. */
      const one = async (
        event: {
          amount: number;
          take?: string;
          mode?: string;
          member?: string;
          session?: string;
          volume?: unknown;
          scopes?: unknown;
          key?: string;
          rate?: number;
        },
        account = a,
      ) =>
        (
          await q<{ taken: boolean }>(
            `SELECT credit_take_one($2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, NULL, NULL, 'take-steps', $9::uuid, ac, st, ky, lt) AS taken
               FROM credit_take_accounts(ARRAY[$1::bigint], ARRAY[$5::varchar]) ac,
                    credit_take_settings(ARRAY[$1::bigint], $10::int, '{1}', 0) st, credit_take_key($9::uuid) ky,
                    credit_take_lots(ARRAY[$1::bigint]) lt`,
            [
              account,
              event.take ?? 'debit',
              event.mode ?? 'strict',
              event.amount,
              event.member ?? null,
              event.session ?? null,
              event.volume === undefined ? null : JSON.stringify(event.volume),
              event.scopes === undefined ? null : JSON.stringify(event.scopes),
              event.key ?? null,
              event.rate ?? null,
            ],
          )
        )[0].taken;
      const lines = () =>
        q(
          `SELECT allocation_id, kind, amount, balance_after::int AS balance, api_key_id, created_by FROM credit_ledger
            WHERE account_id = $1 ORDER BY id`,
          [a],
        );
      const lots = () =>
        q(`SELECT remaining_credits AS r FROM credit_allocations WHERE account_id = $1 ORDER BY expires_at`, [a]);

      // Declined, each for one reason, and nothing moved: the general steps take these.
      const declined = [
        { amount: 0 }, // no line to write
        { amount: 6 }, // more than the first lot holds
        { amount: 7 }, // 9 → 2: below the threshold of 3, an alert is due
        { amount: 2, take: 'hold' }, // a hold in no session
        { amount: 2, take: 'hold', session: 'h', member: `take-steps-${tag}-a` },
        { amount: 2, take: 'hold', session: 'h', key: budgeted },
        { amount: 2, mode: 'up_to' },
        { amount: 2, member: `take-steps-${tag}-a` },
        { amount: 2, session: 's' },
        { amount: 2, volume: [] },
        { amount: 2, scopes: { project: 'p' } },
        { amount: 2, key: budgeted },
        { amount: 2, rate: 100 }, // an hourly window to count
      ];
      for (const event of declined) expect({ event, taken: await one(event) }).toEqual({ event, taken: false });
      expect(await one({ amount: 2 }, '0')).toBe(false); // no such account
      expect(await lines()).toEqual([]);
      expect(await lots()).toEqual([{ r: 5 }, { r: 4 }]);

      // Taken: the line credit_take_fifo() would make, on the first lot, written by the one writer
      expect(await one({ amount: 3 })).toBe(true);
      expect(await one({ amount: 1, key: unbudgeted })).toBe(true);
      expect(await lines()).toEqual([
        { allocation_id: first, kind: 'debit', amount: -3, balance: 6, api_key_id: null, created_by: 'take-steps' },
        {
          allocation_id: first,
          kind: 'debit',
          amount: -1,
          balance: 5,
          api_key_id: unbudgeted,
          created_by: 'take-steps',
        },
      ]);
      expect(await lots()).toEqual([{ r: 1 }, { r: 4 }]);

      // A hold in its session: the hold line the steps would make, naming the session
      expect(await one({ amount: 1, take: 'hold', session: 'h1', key: unbudgeted })).toBe(true);
      expect(
        await q(
          `SELECT kind, amount, balance_after::int AS balance, session_id FROM credit_ledger WHERE account_id = $1 AND kind = 'hold'`,
          [a],
        ),
      ).toEqual([{ kind: 'hold', amount: -1, balance: 4, session_id: 'h1' }]);
      expect(await lots()).toEqual([{ r: 0 }, { r: 4 }]);
    });
  });

  it('credit_take_count: the members, the hourly windows, the budgets and the key counted once', async () => {
    await rolledBack(async () => {
      const m = `take-steps-${tag}-m`;
      const { org, id: o } = await orgAccount({ [m]: 50 });
      const key = await keyCap(20);
      const [{ minute }] = await q<{ minute: string }>(
        `SELECT floor(extract(epoch FROM now()) / 60)::bigint AS minute`,
      );
      await q(
        `SELECT credit_take_count(ARRAY[$1::bigint], ARRAY[5]::bigint[], $4::bigint,
                                  credit_take_members(ARRAY[1], ARRAY[$2::varchar], ARRAY[$1::bigint], ARRAY[$5::varchar]), ARRAY[3]::bigint[],
                                  NULL::record, NULL, $3::uuid, credit_take_key($3::uuid), 4)`,
        [o, m, key, minute, org],
      );
      const [counted] = await q(
        `SELECT (SELECT spent FROM credit_cap_spent('member', $2, $1, 'day', now()))::int AS member,
                (SELECT spent FROM credit_cap_spent('key', $3, NULL, 'day', now()))::int AS key,
                (SELECT spend_window[($4::bigint % 60) + 1] FROM credit_accounts WHERE account_id = $1) AS slot`,
        [o, m, key, minute],
      );
      expect(counted).toEqual({ member: 3, key: 4, slot: 5 });
    });
  });

  it('credit_take_notify: the balance alerts of the movements that cross a threshold', async () => {
    await rolledBack(async () => {
      const a = await userAccount('a');
      await q(`INSERT INTO credit_accounts (account_id, low_balance_thresholds) VALUES ($1, '{10}')`, [a]);
      const decided = `(SELECT d FROM (SELECT true AS out_alerts, ARRAY[15, 5]::bigint[] AS out_before, ARRAY[5, 4]::bigint[] AS out_balance,
                                              ARRAY['ok', 'ok']::varchar[] AS out_status, ARRAY[10, 1]::bigint[] AS out_collected,
                                              ARRAY[0, 0]::bigint[] AS out_debt, ARRAY[4]::bigint[] AS out_account_available) d)`;
      await q(`SELECT credit_take_notify(ARRAY[$1::bigint], ARRAY[1, 1], ${decided}, NULL, false)`, [a]);
      const events = await q<{ type: string; balance: number }>(
        `SELECT type, (data->>'balance')::int AS balance FROM events WHERE user_id = $1`,
        [`take-steps-${tag}-a`],
      );
      // 15 → 5 crosses 10; 5 → 4 crosses nothing
      expect(events).toEqual([{ type: 'balance.low', balance: 5 }]);
    });
  });
});
