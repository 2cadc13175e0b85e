import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp, uniqueId } from './support/app.js';
import { expireAllocationNow } from './support/clock.js';
import { Fixtures, type FixtureUser, principal } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Corrections of usage records over HTTP (docs/usage.md "Corrections"): every branch of the engine's
 * credits_correct() (down with a shortfall, to live lots, to an expired and a voided lot; up with
 * balance, into debt, into review; zero), the correction id's replay and reuse, the record's view,
 * and corrections of one record and of one account's records in parallel, with the invariants.
 */
describe('usage corrections', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const admin = principal('admin', 'corr-admin');

  beforeAll(async () => {
    // Twelve corrections of one account at once each hold a connection while they queue on the
    // account's lock: with the tests' pool of 10 the last two wait for a connection, and on a loaded
    // machine past the pool's 5 s wait (503 DATABASE_UNAVAILABLE, nothing changed). A pool that
    // seats them all makes the spec about the lock, not the pool.
    t = await startTestApp({ DB_POOL_SIZE: '16' });
    f = new Fixtures(t, { users, prefix: 'corr', granter: admin.jwt });
    await t.http.get('/api/users/me').set(admin.auth).expect(200);
  });
  afterAll(() => t.close());

  /** A record of `credits` for the user, metered by the admin (a service principal). */
  async function record(userId: string, credits: number): Promise<string> {
    const res = await t.http
      .post('/api/usage/record')
      .set(admin.auth)
      .send({ userId, service: 'chat', operation: 'completion', credits });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  }

  let n = 0;
  const correct = (recordId: string, body: Record<string, unknown>, auth = admin.auth) =>
    t.http
      .post(`/api/usage/records/${recordId}/corrections`)
      .set(auth)
      .send({ correctionId: `c-${++n}`, reason: 'test', ...body });

  async function remaining(ids: string[]): Promise<number[]> {
    const { rows } = await t.db.query(
      `SELECT id, remaining_credits FROM credit_allocations WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return ids.map((id) => rows.find((r) => r.id === id).remaining_credits as number);
  }

  async function debt(userId: string): Promise<number> {
    const { rows } = await t.db.query(
      `SELECT COALESCE((SELECT debt FROM credit_accounts WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)), 0) AS d`,
      [userId],
    );
    return Number(rows[0].d);
  }

  async function view(user: FixtureUser, recordId: string) {
    const res = await t.http.get('/api/usage/records').set(user.auth).expect(200);
    return (res.body.items as { id: string; netCredits: number; corrections: unknown[]; reviewStatus: string }[]).find(
      (r) => r.id === recordId,
    )!;
  }

  it('down to live lots: the last taken first, each at most what it gave; the view shows the net', async () => {
    const u = await f.newUser({
      credits: [
        { credits: 10, expiryDays: 5 },
        { credits: 10, expiryDays: 30 },
      ],
    });
    const [soon, late] = u.allocationIds;
    const id = await record(u.id, 15); // 10 from the soonest lot, 5 from the later one
    expect(await remaining([soon, late])).toEqual([0, 5]);
    const res = await correct(id, { credits: 3 });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ recordId: id, previousCredits: 15, credits: 3, delta: -12, createdBy: admin.id });
    // the later lot was taken last: it gets its 5 back first, then the soonest lot 7 of its 10
    expect(await remaining([soon, late])).toEqual([7, 10]);
    const { rows } = await t.db.query(
      `SELECT kind, amount, correction_id, category FROM credit_ledger WHERE usage_record_id = $1 AND kind = 'correction'
        ORDER BY id`,
      [id],
    );
    expect(rows).toEqual([
      { kind: 'correction', amount: 5, correction_id: res.body.id, category: 'corrected' },
      { kind: 'correction', amount: 7, correction_id: res.body.id, category: 'corrected' },
    ]);
    const seen = await view(u, id);
    expect(seen).toMatchObject({
      netCredits: 3,
      corrections: [{ id: res.body.id, correctionId: res.body.correctionId, delta: -12 }],
    });
    // the statistics count the net: the user's from the records, the system's rollups through their deltas
    const stats = await t.http.get('/api/usage/stats').set(u.auth).expect(200);
    expect(stats.body).toMatchObject({ totalRecords: 1, totalCredits: 3 });
    const { rows: rolled } = await t.db.query(
      `SELECT (SELECT COALESCE(sum(credits), 0) FROM usage_daily_users WHERE user_id = $1)
            + (SELECT COALESCE(sum(credits), 0) FROM usage_rollup_pending WHERE user_id = $1) AS credits`,
      [u.id],
    );
    expect(Number(rolled[0].credits)).toBe(3);
    await expectInvariants(t, [u.id]);
  });

  it('the same correctionId again answers the first correction and moves nothing; another body is a 422', async () => {
    const u = await f.newUser({ credits: 20 });
    const id = await record(u.id, 10);
    const body = { correctionId: 'ticket-1', reason: 'double count', credits: 4 };
    const first = await t.http.post(`/api/usage/records/${id}/corrections`).set(admin.auth).send(body);
    expect(first.status).toBe(201);
    expect(await f.available(u.id)).toBe(16);
    const again = await t.http.post(`/api/usage/records/${id}/corrections`).set(admin.auth).send(body);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(await f.available(u.id)).toBe(16);
    const other = await t.http
      .post(`/api/usage/records/${id}/corrections`)
      .set(admin.auth)
      .send({ ...body, credits: 2 });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('CORRECTION_ID_REUSED');
    expect(await f.available(u.id)).toBe(16);
    // naming the net again: delta 0, nothing moves
    const zero = await correct(id, { credits: 4 });
    expect(zero.status).toBe(201);
    expect(zero.body).toMatchObject({ previousCredits: 4, credits: 4, delta: 0 });
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM credit_ledger WHERE correction_id = $1`, [
      zero.body.id,
    ]);
    expect(rows[0].n).toBe(0);
    expect(await f.available(u.id)).toBe(16);
    await expectInvariants(t, [u.id]);
  });

  it('up with balance: taken soonest-expiring first', async () => {
    const u = await f.newUser({
      credits: [
        { credits: 10, expiryDays: 30 },
        { credits: 10, expiryDays: 3 },
      ],
    });
    const [late, soon] = u.allocationIds;
    const id = await record(u.id, 4); // from the soonest lot
    const res = await correct(id, { credits: 12 });
    expect(res.body).toMatchObject({ previousCredits: 4, credits: 12, delta: 8 });
    expect(await remaining([soon, late])).toEqual([0, 8]);
    expect(await debt(u.id)).toBe(0);
    await expectInvariants(t, [u.id]);
  });

  it('up into debt within the overdraft, then into review beyond it; down lowers the shortfall first', async () => {
    const u = await f.newUser({ credits: 5 });
    await t.http.put(`/api/credits/limits/${u.id}`).set(admin.auth).send({ overdraftLimit: 3 }).expect(200);
    const id = await record(u.id, 5);
    const up = await correct(id, { credits: 10 });
    expect(up.body).toMatchObject({ previousCredits: 5, credits: 10, delta: 5 });
    // 3 as debt (the overdraft), 2 for review
    expect(await debt(u.id)).toBe(3);
    let seen = await view(u, id);
    expect(seen).toMatchObject({ netCredits: 10, reviewStatus: 'open' });
    const queue = await t.http.get('/api/credits/review').set(admin.auth).expect(200);
    expect(queue.body.items.find((i: { usageRecordId: string }) => i.usageRecordId === id)).toMatchObject({
      shortfall: 2,
      reviewStatus: 'open',
    });
    // down by 4: the open shortfall (2) first, then 2 back to the lot, which repay the debt
    const down = await correct(id, { credits: 6 });
    expect(down.body).toMatchObject({ previousCredits: 10, credits: 6, delta: -4 });
    expect(await debt(u.id)).toBe(1);
    expect(await f.available(u.id)).toBe(0);
    seen = await view(u, id);
    expect(seen.netCredits).toBe(6);
    const again = await t.http.get('/api/credits/review').set(admin.auth).expect(200);
    expect(again.body.items.find((i: { usageRecordId: string }) => i.usageRecordId === id)?.shortfall).toBe(0);
    await expectInvariants(t, [u.id]);
  });

  it('down to an expired lot and to a voided one: one new correction allocation takes what they gave', async () => {
    const u = await f.newUser({
      credits: [
        { credits: 10, expiryDays: 2 },
        { credits: 10, expiryDays: 20 },
      ],
    });
    const [soon, late] = u.allocationIds;
    const id = await record(u.id, 16); // 10 from soon, 6 from late
    await expireAllocationNow(t.db, soon);
    await t.http.post(`/api/credits/allocations/${late}/void`).set(admin.auth).send({ reason: 'test' }).expect(200);
    const res = await correct(id, { credits: 1 });
    expect(res.body).toMatchObject({ previousCredits: 16, credits: 1, delta: -15 });
    // the dead lots keep what they had
    expect(await remaining([soon, late])).toEqual([0, 0]);
    const { rows } = await t.db.query(
      `SELECT total_credits, remaining_credits, source, expires_at - now() > interval '29 days' AS thirty
         FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) AND source = 'correction'`,
      [u.id],
    );
    expect(rows).toEqual([{ total_credits: 15, remaining_credits: 15, source: 'correction', thirty: true }]);
    expect(await f.available(u.id)).toBe(15);
    // a second correction gives back nothing twice: the dead lots' part is gone
    const res2 = await correct(id, { credits: 0 });
    expect(res2.body.delta).toBe(-1);
    const { rows: lots } = await t.db.query(
      `SELECT sum(total_credits)::int AS n FROM credit_allocations
        WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) AND source = 'correction'`,
      [u.id],
    );
    expect(lots[0].n).toBe(16);
    await expectInvariants(t, [u.id]);
  });

  it('access: the record’s own user gets 403, another user 404, an unknown record 404', async () => {
    const u = await f.newUser({ credits: 5 });
    const other = await f.newUser();
    const id = await record(u.id, 2);
    expect((await correct(id, { credits: 1 }, u.auth)).status).toBe(403);
    expect((await correct(id, { credits: 1 }, other.auth)).status).toBe(404);
    expect((await correct('0193a8f0-1b2c-7d3e-8f4a-5b6c7d8e9f01', { credits: 1 })).status).toBe(404);
    const sup = principal('supervisor', 'corr-sup');
    expect((await correct(id, { credits: 1 }, sup.auth)).status).toBe(201);
    expect((await correct(id, {})).status).toBe(400);
    expect((await correct(id, { credits: 1, tokens: 5 })).status).toBe(400);
  });

  it('parallel corrections of one record apply one after the other, each against the net before it', async () => {
    const u = await f.newUser({
      credits: [
        { credits: 50, expiryDays: 5 },
        { credits: 50, expiryDays: 9 },
      ],
    });
    const id = await record(u.id, 40);
    const targets = [10, 70, 0, 35, 90, 5, 60, 20];
    const answers = await Promise.all(targets.map((credits) => correct(id, { credits })));
    for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBe(201);
    const chain = answers
      .map((a) => a.body)
      .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1));
    let net = 40;
    for (const c of chain) {
      expect(c.previousCredits).toBe(net);
      net = c.credits;
    }
    expect(await f.available(u.id)).toBe(100 - net);
    await expectInvariants(t, [u.id]);
  });

  it('parallel corrections of many records of one account keep every lot within its original', async () => {
    const u = await f.newUser({
      credits: [
        { credits: 40, expiryDays: 3 },
        { credits: 40, expiryDays: 6 },
      ],
    });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await record(u.id, 5 + i));
    const answers = await Promise.all(
      ids.flatMap((id, i) => [correct(id, { credits: i }), correct(id, { credits: 2 * i + 3 })]),
    );
    for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBe(201);
    const { rows } = await t.db.query(
      `SELECT count(*)::int AS n FROM credit_allocations
        WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) AND (remaining_credits > total_credits OR remaining_credits < 0)`,
      [u.id],
    );
    expect(rows[0].n).toBe(0);
    await expectInvariants(t, [u.id]);
  });

  it('money goes back with the credits by the rule, and comes back whole', async () => {
    const u = await f.newUser();
    const lot = await f.allocate(u.id, { credits: 3, value: { amount: '1.00', currency: 'usd' } });
    expect(lot.status).toBe(201);
    const id = await record(u.id, 2); // floor(100 × 2 / 3) = 66 leave
    const value = async () =>
      Number(
        (await t.db.query(`SELECT value_remaining_minor AS v FROM credit_allocations WHERE id = $1`, [lot.body.id]))
          .rows[0].v,
      );
    expect(await value()).toBe(34);
    const down = await correct(id, { credits: 1 });
    expect(down.body.delta).toBe(-1);
    // the record's part of the lot (2 credits, 66) gives 1 back with 66 − floor(66 × 1 / 2) = 33
    expect(await value()).toBe(67);
    const { rows } = await t.db.query(
      `SELECT value_minor::int AS v, currency FROM credit_ledger WHERE correction_id = $1`,
      [down.body.id],
    );
    expect(rows).toEqual([{ v: 33, currency: 'usd' }]);
    await correct(id, { credits: 0 });
    expect(await value()).toBe(100);
    expect(await remaining([lot.body.id])).toEqual([3]);
    await expectInvariants(t, [u.id]);
  });

  it('org-paid and key-attributed records: the org pays and receives, the member’s and the key’s counters move', async () => {
    const m = await f.newUser();
    const orgId = uniqueId('corrorg').toLowerCase();
    await t.db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'admin')`, [orgId]);
    await t.db.query(
      `WITH m AS (INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, 'member'))
       INSERT INTO credit_caps (subject_kind, subject_id, account_id, credit_limit, period)
       VALUES ('member', $2, (SELECT account_id FROM accounts WHERE org_id = $1), 100, 'day')`,
      [orgId, m.id],
    );
    await t.http.post('/api/credits/allocate').set(admin.auth).send({ orgId, credits: 100 }).expect(201);
    const key = await f.apiKey(m, { creditLimit: 50, limitPeriod: 'day' });
    const res = await t.http
      .post('/api/usage/record')
      .set(admin.auth)
      .send({ userId: m.id, orgId, apiKeyId: key.id, service: 'chat', operation: 'completion', credits: 20 });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.id as string;
    const state = async () => {
      const { rows } = await t.db.query(
        `SELECT credit_available((SELECT account_id FROM accounts WHERE org_id = $1))::int AS pool,
                credit_cap_spent('member', $2, (SELECT account_id FROM accounts WHERE org_id = $1), 'day', now())::int AS member,
                (SELECT sp.spent FROM credit_cap_spent('key', $3, NULL, 'day', now()) sp)::int AS key`,
        [orgId, m.id, key.id],
      );
      return rows[0];
    };
    expect(await state()).toEqual({ pool: 80, member: 20, key: 20 });
    expect((await correct(id, { credits: 5 })).body).toMatchObject({ previousCredits: 20, credits: 5, delta: -15 });
    expect(await state()).toEqual({ pool: 95, member: 5, key: 5 });
    expect((await correct(id, { credits: 30 })).body).toMatchObject({ delta: 25 });
    expect(await state()).toEqual({ pool: 70, member: 30, key: 30 });
    const { rows } = await t.db.query(
      `SELECT DISTINCT account_id = (SELECT account_id FROM accounts WHERE org_id = $1) AS org_pays, member_id FROM credit_ledger
        WHERE usage_record_id = $2 AND kind = 'correction'`,
      [orgId, id],
    );
    expect(rows).toEqual([{ org_pays: true, member_id: m.id }]);
    // the webhook's event names the org and the member
    const events = await t.db.query(
      `SELECT data FROM events WHERE type = 'usage.corrected' AND data->>'recordId' = $1 ORDER BY created_at`,
      [id],
    );
    expect(events.rows.map((r) => r.data)).toMatchObject([
      { orgId, userId: m.id, recordId: id, delta: -15, credits: 5 },
      { orgId, userId: m.id, recordId: id, delta: 25, credits: 30 },
    ]);
    await expectInvariants(t, [m.id]);
  });

  it('property: random records and corrections keep every lot equal to its lines and the roll-forward closed', async () => {
    const seed = Number(process.env.CORRECTIONS_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`usage corrections property seed ${seed}`);
    let state = seed;
    const rand = (n: number) => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % n;
    };
    const u = await f.newUser();
    await t.http.put(`/api/credits/limits/${u.id}`).set(admin.auth).send({ overdraftLimit: 20 }).expect(200);
    const lots: string[] = [];
    for (const [credits, value] of [
      [40, { amount: '7.00', currency: 'usd' }],
      [25, { amount: '3.33', currency: 'usd' }],
      [30, { amount: '5.00', currency: 'eur' }],
      [20, undefined],
    ] as const) {
      const res = await f.allocate(u.id, { credits, expiryDays: 1 + rand(20), ...(value ? { value } : {}) });
      expect(res.status).toBe(201);
      lots.push(res.body.id);
    }
    const records: string[] = [];
    for (let step = 0; step < 40; step++) {
      const what = rand(10);
      if (what < 3 || records.length === 0) {
        const res = await t.http
          .post('/api/usage/record')
          .set(admin.auth)
          .send({ userId: u.id, service: 'chat', operation: 'completion', credits: 1 + rand(12) });
        if (res.status === 201) records.push(res.body.id);
        else expect(res.status).toBe(402);
      } else if (what === 3) {
        const lot = lots[rand(lots.length)];
        if (rand(2) === 0) await expireAllocationNow(t.db, lot);
        else await t.http.post(`/api/credits/allocations/${lot}/void`).set(admin.auth).send({});
      } else {
        const id = records[rand(records.length)];
        const res = await correct(id, { credits: rand(25) });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
      }
    }
    // every lot's credits and money are its value and its lines', exactly
    const { rows: lotsOff } = await t.db.query(
      `SELECT a.id, a.remaining_credits, a.value_remaining_minor, a.value_minor,
              sum(l.amount) AS credits, sum(l.value_minor) AS money
         FROM credit_allocations a JOIN credit_ledger l ON l.allocation_id = a.id
        WHERE a.account_id = (SELECT account_id FROM accounts WHERE user_id = $1)
        GROUP BY a.id
       HAVING a.remaining_credits <> sum(l.amount)
           OR (a.value_minor IS NOT NULL AND a.value_remaining_minor <> sum(l.value_minor))`,
      [u.id],
    );
    expect(lotsOff).toEqual([]);
    // the roll-forward of the run closes exactly, per currency, on the lots' money left
    const day = new Date().toISOString().slice(0, 10);
    const next = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    for (const currency of ['usd', 'eur']) {
      let mine: { totals: Record<string, string> } | undefined;
      let cursor: string | undefined;
      do {
        const res = await t.http
          .get('/api/finance/rollforward')
          .query({ currency, from: day, to: next, groupBy: 'account', limit: 1000, ...(cursor ? { cursor } : {}) })
          .set(admin.auth)
          .expect(200);
        mine = res.body.accounts.find((a: { userId: string }) => a.userId === u.id);
        cursor = res.body.nextCursor ?? undefined;
      } while (!mine && cursor);
      expect(mine).toBeDefined();
      const minor = (s: string) => Math.round(Number(s) * 100);
      const p = mine!.totals;
      expect(
        minor(p.opening) +
          minor(p.purchased) +
          minor(p.sold) +
          minor(p.transferredIn) -
          minor(p.recognized) -
          minor(p.expired) -
          minor(p.refunded) -
          minor(p.chargedBack) -
          minor(p.voided) -
          minor(p.transferredOut),
      ).toBe(minor(p.closing));
      const { rows } = await t.db.query(
        `SELECT COALESCE(sum(value_remaining_minor), 0)::int AS left FROM credit_allocations
          WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) AND currency = $2 AND voided_at IS NULL
            AND (expires_at > now() OR NOT expiry_done)`,
        [u.id, currency],
      );
      expect(minor(p.closing)).toBe(rows[0].left);
    }
    await expectInvariants(t, [u.id]);
  });
});
