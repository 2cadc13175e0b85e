import { randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, type Principal, principal, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const adminJwt = tokenFor('admin', 'transfers-admin');
const DAY = 86_400_000;

/**
 * Credit transfers (docs/money.md "Transfers"): over HTTP, on
 * the real engine. Each lot keeps its expiry, only what the source may spend moves (never held
 * credits, never the overdraft), a refusal moves nothing, parallel transfers never overspend, and
 * separation of duties holds for users and organisations.
 */
describe('credit transfers', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const supervisor = principal('supervisor', 'xfer-sup');
  const model = `xfer-model-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'xfer', granter: adminJwt });
    // 10 credits per 1,000 tokens: an estimate of 1,000 tokens holds 12.
    await t.http
      .post('/api/pricing')
      .set(bearer(adminJwt))
      .send({ modelId: model, pricePer1kTokens: '10' })
      .expect(201);
  });
  afterEach(async () => {
    await expectInvariants(t, users);
    // Every mismatch of these users, and those of no user (organisations' allocations, transfers).
    expect(await mismatches()).toEqual([]);
  });
  afterAll(() => t.close());

  const mismatches = async () =>
    (await t.http.get('/api/credits/reconcile').set(bearer(adminJwt)).expect(200)).body.mismatches.filter(
      (m: { userId: string | null }) => m.userId === null || users.includes(m.userId),
    );
  const transfer = (body: Record<string, unknown>, by: Pick<Principal, 'auth'> = supervisor) =>
    t.http.post('/api/credits/transfers').set(by.auth).send(body);
  const list = (query: Record<string, string | number>, by: Pick<Principal, 'auth'> = supervisor) =>
    t.http.get('/api/credits/transfers').query(query).set(by.auth);
  const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();

  /** An organisation (its row opens its account), with members: the orgs routes are another branch's. */
  async function newOrg(members: { userId: string; removed?: boolean }[] = []): Promise<string> {
    const orgId = uniqueId('org').toLowerCase();
    await t.db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'test')`, [orgId]);
    for (const m of members) {
      await t.db.query(`INSERT INTO org_members (org_id, user_id, role, removed_at) VALUES ($1, $2, 'member', $3)`, [
        orgId,
        m.userId,
        m.removed ? new Date() : null,
      ]);
    }
    return orgId;
  }

  /** Everything that says money moved, for an account: its ledger, allocations and transfers. */
  async function footprint(kind: 'user' | 'org', owner: string) {
    const { rows } = await t.db.query(
      `SELECT (SELECT count(*)::int FROM credit_ledger WHERE account_id = (SELECT account_id FROM accounts WHERE kind = $1 AND $2 IN (user_id, org_id))) AS ledger,
              (SELECT COALESCE(sum(remaining_credits), 0)::int FROM credit_allocations
                WHERE account_id = (SELECT account_id FROM accounts WHERE kind = $1 AND $2 IN (user_id, org_id))) AS remaining,
              (SELECT count(*)::int FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE kind = $1 AND $2 IN (user_id, org_id))) AS allocations,
              (SELECT count(*)::int FROM credit_transfers
                WHERE (SELECT account_id FROM accounts WHERE kind = $1 AND $2 IN (user_id, org_id)) IN (from_account_id, to_account_id)) AS transfers,
              (SELECT COALESCE(debt, 0)::int FROM credit_accounts WHERE account_id = (SELECT account_id FROM accounts WHERE kind = $1 AND $2 IN (user_id, org_id))) AS debt`,
      [kind, owner],
    );
    return rows[0] as {
      ledger: number;
      remaining: number;
      allocations: number;
      transfers: number;
      debt: number | null;
    };
  }

  const allocations = async (userId: string) =>
    (await t.http.get('/api/credits/allocations').query({ userId }).set(supervisor.auth).expect(200)).body.items as {
      id: string;
      totalCredits: number;
      remainingCredits: number;
      expiresAt: string;
      source: string;
      allocatedBy: string;
      notes: string | null;
    }[];

  it('moves soonest-expiring credits first; every lot arrives with its expiry (user → user)', async () => {
    // Granted out of expiry order: FIFO is by expiry, not by grant.
    const from = await f.newUser({
      credits: [
        { credits: 30, expiresAt: inDays(20) },
        { credits: 10, expiresAt: inDays(5) },
        { credits: 20, expiresAt: inDays(10) },
      ],
    });
    const [late, soon, middle] = from.allocationIds;
    const to = await f.newUser({ credits: 7 });
    const before = await allocations(from.id);
    const expiry = new Map(before.map((a) => [a.id, a.expiresAt]));

    const res = await transfer({ from: { userId: from.id }, to: { userId: to.id }, credits: 25, reason: 'Budget' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      from: { userId: from.id },
      to: { userId: to.id },
      credits: 25,
      reason: 'Budget',
      createdBy: supervisor.id,
    });
    expect(res.body.from).toEqual({ userId: from.id });
    expect(res.body.to).toEqual({ userId: to.id });
    const lots = res.body.lots as {
      fromAllocationId: string;
      toAllocationId: string;
      credits: number;
      expiresAt: string;
    }[];
    expect(lots.map(({ toAllocationId: _, ...l }) => l)).toEqual([
      { fromAllocationId: soon, credits: 10, expiresAt: expiry.get(soon) },
      { fromAllocationId: middle, credits: 15, expiresAt: expiry.get(middle) },
    ]);

    // The source: the soonest allocation emptied, 5 left of the middle one, the late one untouched.
    const after = new Map((await allocations(from.id)).map((a) => [a.id, a.remainingCredits]));
    expect([after.get(soon), after.get(middle), after.get(late)]).toEqual([0, 5, 30]);
    expect(await f.available(from.id)).toBe(35);

    // The destination: one allocation per lot, source transfer, the lot's expiry, listed by the route.
    const arrived = (await allocations(to.id)).filter((a) => a.source === 'transfer');
    expect(
      arrived.map((a) => [a.id, a.totalCredits, a.remainingCredits, a.expiresAt, a.allocatedBy, a.notes]).sort(),
    ).toEqual(
      [
        [lots[0].toAllocationId, 10, 10, expiry.get(soon), supervisor.id, 'Budget'],
        [lots[1].toAllocationId, 15, 15, expiry.get(middle), supervisor.id, 'Budget'],
      ].sort(),
    );
    expect(await f.available(to.id)).toBe(32);

    // The ledger, through the route: transfer_out on the allocations left, transfer_in on the new ones,
    // each at the account's balance just after it.
    const ledger = async (userId: string, kind: string) =>
      (await t.http.get('/api/credits/ledger').query({ userId, kind }).set(supervisor.auth).expect(200)).body.items
        .map((e: { allocationId: string; amount: number; balanceAfter: number }) => [
          e.allocationId,
          e.amount,
          e.balanceAfter,
        ])
        .reverse();
    expect(await ledger(from.id, 'transfer_out')).toEqual([
      [soon, -10, 50],
      [middle, -15, 35],
    ]);
    expect(await ledger(to.id, 'transfer_in')).toEqual([
      [lots[0].toAllocationId, 10, 17],
      [lots[1].toAllocationId, 15, 32],
    ]);

    // Listed on both sides, and audited.
    for (const userId of [from.id, to.id]) {
      const page = await list({ userId }).expect(200);
      expect(page.body).toEqual({ items: [res.body], nextCursor: null });
    }
    const audit = await t.http
      .get('/api/audit')
      .query({ action: 'credits.transfer', targetId: res.body.id })
      .set(bearer(adminJwt))
      .expect(200);
    expect(audit.body.items).toHaveLength(1);
    expect(audit.body.items[0]).toMatchObject({
      actor: { userId: supervisor.id, role: 'supervisor' },
      target: { type: 'credit_transfer', id: res.body.id },
      after: res.body,
    });
    // The destination's new allocations tell credits.granted, as every new allocation does.
    const { rows: events } = await t.db.query(
      `SELECT data FROM events WHERE type = 'credits.granted' AND data->>'source' = 'transfer' AND user_id = $1`,
      [to.id],
    );
    expect(events.map((e) => e.data.credits).sort()).toEqual([10, 15]);
  });

  it('never moves held credits nor the overdraft; short → 402 and nothing moves', async () => {
    const from = await f.newUser({ credits: 20 });
    const to = await f.newUser();
    await t.http.put(`/api/credits/limits/${from.id}`).set(bearer(adminJwt)).send({ overdraftLimit: 50 }).expect(200);
    const session = await t.http
      .post('/api/streaming-sessions/initialize')
      .set(from.auth)
      .send({ modelId: model, estimatedTokens: 1000 });
    expect(session.status, JSON.stringify(session.body)).toBe(201);
    expect(session.body.allocatedCredits).toBe(12);

    const fromBefore = await footprint('user', from.id);
    const toBefore = await footprint('user', to.id);
    const short = await transfer({ from: { userId: from.id }, to: { userId: to.id }, credits: 9 });
    expect(short.status).toBe(402);
    expect(short.body).toMatchObject({ code: 'INSUFFICIENT_CREDITS', requiredCredits: 9, availableCredits: 8 });
    expect(await footprint('user', from.id)).toEqual(fromBefore);
    expect(await footprint('user', to.id)).toEqual(toBefore);

    const ok = await transfer({ from: { userId: from.id }, to: { userId: to.id }, credits: 8 });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    const { rows } = await t.db.query(
      `SELECT outstanding FROM credit_holds WHERE session_id = $1 AND account_id = (SELECT account_id FROM accounts WHERE user_id = $2)`,
      [session.body.sessionId, from.id],
    );
    expect(rows).toEqual([{ outstanding: 12 }]);
    expect(await f.available(from.id)).toBe(0);
    expect(await f.available(to.id)).toBe(8);
    expect((await footprint('user', from.id)).debt ?? 0).toBe(0);
    // Nothing left but the overdraft: still 402.
    const again = await transfer({ from: { userId: from.id }, to: { userId: to.id }, credits: 1 });
    expect(again.status).toBe(402);
    expect(again.body).toMatchObject({ requiredCredits: 1, availableCredits: 0 });

    // The session settles against its hold as before.
    await t.http
      .post('/api/streaming-sessions/finalize')
      .set(from.auth)
      .send({ sessionId: session.body.sessionId, actualTokens: 1000 })
      .expect(200);
    expect(await f.available(from.id)).toBe(2);
  });

  it('an expired allocation never moves', async () => {
    const from = await f.newUser({ credits: [5, 7] });
    const to = await f.newUser();
    await t.db.query(`UPDATE credit_allocations SET expires_at = now() - interval '1 minute' WHERE id = $1`, [
      from.allocationIds[0],
    ]);
    const res = await transfer({ from: { userId: from.id }, to: { userId: to.id }, credits: 8 });
    expect(res.status).toBe(402);
    expect(res.body).toMatchObject({ availableCredits: 7 });
  });

  it('user → org → user: the org pays with the lots it received, their expiry kept', async () => {
    const alice = await f.newUser({
      credits: [
        { credits: 12, expiresAt: inDays(3) },
        { credits: 40, expiresAt: inDays(40) },
      ],
    });
    const bob = await f.newUser();
    const orgId = await newOrg([{ userId: alice.id }]);
    const expiries = new Map((await allocations(alice.id)).map((a) => [a.id, a.expiresAt]));

    const toOrg = await transfer({ from: { userId: alice.id }, to: { orgId }, credits: 30 });
    expect(toOrg.status, JSON.stringify(toOrg.body)).toBe(201);
    expect(toOrg.body.to).toEqual({ orgId });
    expect(toOrg.body.lots.map((l: { credits: number; expiresAt: string }) => [l.credits, l.expiresAt])).toEqual([
      [12, expiries.get(alice.allocationIds[0])],
      [18, expiries.get(alice.allocationIds[1])],
    ]);
    const { rows: orgAllocations } = await t.db.query(
      `SELECT id, account_user_id(account_id) AS user_id, source, total_credits, remaining_credits, expires_at FROM credit_allocations
        WHERE account_id = (SELECT account_id FROM accounts WHERE org_id = $1) ORDER BY expires_at`,
      [orgId],
    );
    expect(
      orgAllocations.map((a) => [
        a.id,
        a.user_id,
        a.source,
        a.total_credits,
        a.remaining_credits,
        a.expires_at.toISOString(),
      ]),
    ).toEqual(
      toOrg.body.lots.map((l: { toAllocationId: string; credits: number; expiresAt: string }) => [
        l.toAllocationId,
        null,
        'transfer',
        l.credits,
        l.credits,
        l.expiresAt,
      ]),
    );

    const toBob = await transfer({ from: { orgId }, to: { userId: bob.id }, credits: 20, reason: 'Payout' });
    expect(toBob.status, JSON.stringify(toBob.body)).toBe(201);
    expect(toBob.body.from).toEqual({ orgId });
    expect(
      toBob.body.lots.map((l: { fromAllocationId: string; credits: number; expiresAt: string }) => [
        l.fromAllocationId,
        l.credits,
        l.expiresAt,
      ]),
    ).toEqual([
      [toOrg.body.lots[0].toAllocationId, 12, expiries.get(alice.allocationIds[0])],
      [toOrg.body.lots[1].toAllocationId, 8, expiries.get(alice.allocationIds[1])],
    ]);
    expect((await footprint('org', orgId)).remaining).toBe(10);
    expect(await f.available(bob.id)).toBe(20);
    const bobs = (await allocations(bob.id)).map((a) => [a.source, a.totalCredits, a.expiresAt]).sort();
    expect(bobs).toEqual(
      [
        ['transfer', 12, expiries.get(alice.allocationIds[0])],
        ['transfer', 8, expiries.get(alice.allocationIds[1])],
      ].sort(),
    );

    // The org's transfers, newest first, a page at a time.
    const first = await list({ orgId, limit: 1 }).expect(200);
    expect(first.body.items.map((x: { id: string }) => x.id)).toEqual([toBob.body.id]);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await list({ orgId, limit: 1, cursor: first.body.nextCursor }).expect(200);
    expect(second.body).toEqual({ items: [toOrg.body], nextCursor: null });
    // Without an account: every transfer, newest first.
    const all = (await list({ limit: 500 }).expect(200)).body.items.map((x: { id: string }) => x.id);
    expect(all.indexOf(toBob.body.id)).toBeGreaterThanOrEqual(0);
    expect(all.indexOf(toBob.body.id)).toBeLessThan(all.indexOf(toOrg.body.id));
    const { rows: ledger } = await t.db.query(
      `SELECT kind, amount FROM credit_ledger WHERE account_id = (SELECT account_id FROM accounts WHERE org_id = $1) ORDER BY id`,
      [orgId],
    );
    expect(ledger).toEqual([
      { kind: 'transfer_in', amount: 12 },
      { kind: 'transfer_in', amount: 18 },
      { kind: 'transfer_out', amount: -12 },
      { kind: 'transfer_out', amount: -8 },
    ]);
  });

  it('balance alerts: a spend’s for the source, a grant’s re-arming for the destination', async () => {
    const a = await f.newUser({ credits: 100 });
    const b = await f.newUser({ credits: 100 });
    for (const u of [a, b]) {
      await t.http
        .put(`/api/credits/alerts/${u.id}`)
        .set(bearer(adminJwt))
        .send({ thresholds: [50] })
        .expect(200);
    }
    const low = async (userId: string) =>
      (
        await t.db.query(
          `SELECT data FROM events WHERE user_id = $1 AND type = 'balance.low' ORDER BY created_at, id`,
          [userId],
        )
      ).rows.map((r: { data: unknown }) => r.data);
    await transfer({ from: { userId: a.id }, to: { userId: b.id }, credits: 60 }).expect(201); // a 40, b 160
    expect(await low(a.id)).toEqual([{ userId: a.id, threshold: 50, balance: 40 }]);
    await transfer({ from: { userId: b.id }, to: { userId: a.id }, credits: 20 }).expect(201); // a 60, b 140
    await transfer({ from: { userId: a.id }, to: { userId: b.id }, credits: 15 }).expect(201); // a 45
    // Arrived credits lifted a back to the threshold, so crossing it again alerts again; b never crossed.
    expect(await low(a.id)).toEqual([
      { userId: a.id, threshold: 50, balance: 40 },
      { userId: a.id, threshold: 50, balance: 45 },
    ]);
    expect(await low(b.id)).toEqual([]);
  });

  it('credits arriving at an account in debt repay it first, as a grant does', async () => {
    const debtor = await f.newUser({ credits: 5 });
    await t.http.put(`/api/credits/limits/${debtor.id}`).set(bearer(adminJwt)).send({ overdraftLimit: 20 }).expect(200);
    await f.recordUsage(debtor, 11).expect(201);
    expect((await footprint('user', debtor.id)).debt).toBe(6);
    const from = await f.newUser({ credits: 10 });
    const res = await transfer({ from: { userId: from.id }, to: { userId: debtor.id }, credits: 10 });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(await footprint('user', debtor.id)).toMatchObject({ debt: 0, remaining: 4 });
    const { rows } = await t.db.query(`SELECT kind, amount FROM credit_ledger WHERE allocation_id = $1 ORDER BY id`, [
      res.body.lots[0].toAllocationId,
    ]);
    expect(rows).toEqual([
      { kind: 'transfer_in', amount: 10 },
      { kind: 'repay', amount: -6 },
    ]);
  });

  it('10 parallel transfers from a source that can afford 4: exactly 4 pass, nothing overspent', async () => {
    const from = await f.newUser({
      credits: [
        { credits: 25, expiryDays: 3 },
        { credits: 20, expiryDays: 9 },
      ],
    });
    const targets: FixtureUser[] = [];
    for (let i = 0; i < 5; i++) targets.push(await f.newUser({ credits: 1 }));
    const orgId = await newOrg();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        transfer({
          from: { userId: from.id },
          to: i % 2 === 0 ? { userId: targets[i / 2].id } : { orgId },
          credits: 10,
        }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 201, 201, 201, 402, 402, 402, 402, 402, 402]);
    expect(await f.available(from.id)).toBe(5);
    const arrived =
      (await footprint('org', orgId)).remaining +
      (await Promise.all(targets.map((u) => f.available(u.id)))).reduce((a, b) => a + b, 0);
    expect(arrived).toBe(40 + 5);
    for (const r of results.filter((x) => x.status === 402)) {
      expect(r.body).toMatchObject({ code: 'INSUFFICIENT_CREDITS', requiredCredits: 10 });
    }
  });

  it('transfers both ways between two accounts at once never deadlock', async () => {
    const a = await f.newUser({ credits: 100 });
    const b = await f.newUser({ credits: 100 });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        transfer(
          i % 2 === 0
            ? { from: { userId: a.id }, to: { userId: b.id }, credits: 3 }
            : { from: { userId: b.id }, to: { userId: a.id }, credits: 5 },
        ),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(201));
    expect(await f.available(a.id)).toBe(100 - 15 + 25);
    expect(await f.available(b.id)).toBe(100 + 15 - 25);
  });

  it('reconcile finds a transfer whose records do not match its ledger', async () => {
    const from = await f.newUser({ credits: [4, 6] });
    const to = await f.newUser();
    const res = await transfer({ from: { userId: from.id }, to: { userId: to.id }, credits: 7 }).expect(201);
    expect(await mismatches()).toEqual([]);
    // A lot that says one credit more than moved: its allocation, its source's transfer_out entries and
    // the transfer's total all disagree with it. (Put back at once: the rows are the test's.)
    const lot = res.body.lots[1];
    await t.db.query(`UPDATE credit_transfer_lots SET credits = credits + 1 WHERE to_allocation_id = $1`, [
      lot.toAllocationId,
    ]);
    try {
      const found = await mismatches();
      expect(found).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            problem: 'transfer_mismatch',
            allocationId: lot.toAllocationId,
            expected: 4,
            actual: 3,
          }),
          expect.objectContaining({
            problem: 'transfer_mismatch',
            allocationId: lot.fromAllocationId,
            expected: 4,
            actual: 3,
          }),
          expect.objectContaining({ problem: 'transfer_mismatch', allocationId: null, expected: 7, actual: 8 }),
        ]),
      );
      expect(found).toHaveLength(3);
    } finally {
      await t.db.query(`UPDATE credit_transfer_lots SET credits = credits - 1 WHERE to_allocation_id = $1`, [
        lot.toAllocationId,
      ]);
    }
  });

  describe('separation of duties', () => {
    it('a supervisor may not transfer into their own account (403, nothing written)', async () => {
      const sup = await f.newUser({ role: 'supervisor' });
      const from = await f.newUser({ credits: 10 });
      const before = await footprint('user', from.id);
      for (const key of [undefined, 'sod-k1']) {
        const req = t.http.post('/api/credits/transfers').set(sup.auth);
        if (key) req.set('Idempotency-Key', key);
        const res = await req.send({ from: { userId: from.id }, to: { userId: sup.id }, credits: 5 });
        expect(res.status).toBe(403);
        expect(res.body).toEqual({
          statusCode: 403,
          error: 'Forbidden',
          code: 'SELF_GRANT_FORBIDDEN',
          message: 'Supervisors may not transfer credits into their own account',
        });
      }
      expect(await footprint('user', from.id)).toEqual(before);
      expect((await footprint('user', sup.id)).ledger).toBe(0);
      // Out of their own account is no grant; another supervisor may pay them.
      await transfer({ from: { userId: from.id }, to: { userId: sup.id }, credits: 5 }).expect(201);
      await transfer({ from: { userId: sup.id }, to: { userId: from.id }, credits: 2 }, sup).expect(201);
    });

    it('nor into an organisation they are an active member of; a former member may, and so may an admin', async () => {
      const sup = await f.newUser({ role: 'supervisor' });
      const formerSup = await f.newUser({ role: 'supervisor' });
      const admin = await f.newUser({ role: 'admin' });
      const orgId = await newOrg([{ userId: sup.id }, { userId: formerSup.id, removed: true }, { userId: admin.id }]);
      const from = await f.newUser({ credits: 30 });
      const res = await transfer({ from: { userId: from.id }, to: { orgId }, credits: 5 }, sup);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({
        code: 'SELF_GRANT_FORBIDDEN',
        message: 'Supervisors may not transfer credits into an organisation they are a member of',
      });
      expect(await footprint('org', orgId)).toMatchObject({ ledger: 0, transfers: 0 });
      await transfer({ from: { userId: from.id }, to: { orgId }, credits: 5 }, formerSup).expect(201);
      await transfer({ from: { userId: from.id }, to: { orgId }, credits: 5 }, admin).expect(201);
      await transfer({ from: { userId: from.id }, to: { userId: admin.id }, credits: 5 }, admin).expect(201);
      // Out of the org to someone else is no grant to themself.
      await transfer({ from: { orgId }, to: { userId: from.id }, credits: 3 }, sup).expect(201);
      expect((await footprint('org', orgId)).remaining).toBe(7);
    });
  });

  it('bad input → 4xx and nothing changes', async () => {
    const from = await f.newUser({ credits: 10 });
    const to = await f.newUser();
    const orgId = await newOrg();
    const user = await f.newUser();
    const before = [await footprint('user', from.id), await footprint('user', to.id), await footprint('org', orgId)];
    const u = { userId: from.id };
    const v = { userId: to.id };
    const cases: [Record<string, unknown>, number][] = [
      [{ to: v, credits: 1 }, 400],
      [{ from: u, credits: 1 }, 400],
      [{ from: u, to: v }, 400],
      [{ from: {}, to: v, credits: 1 }, 400],
      [{ from: { userId: from.id, orgId }, to: v, credits: 1 }, 400],
      [{ from: u, to: { userId: to.id, orgId }, credits: 1 }, 400],
      [{ from: u, to: { orgId: '' }, credits: 1 }, 400],
      [{ from: u, to: { userId: to.id, extra: 1 }, credits: 1 }, 400],
      [{ from: null, to: v, credits: 1 }, 400],
      [{ from: from.id, to: v, credits: 1 }, 400],
      [{ from: u, to: v, credits: 0 }, 400],
      [{ from: u, to: v, credits: -3 }, 400],
      [{ from: u, to: v, credits: 1.5 }, 400],
      [{ from: u, to: v, credits: '5' }, 400],
      [{ from: u, to: v, credits: 2_147_483_648 }, 400],
      [{ from: u, to: v, credits: 1, reason: 'x'.repeat(501) }, 400],
      [{ from: u, to: v, credits: 1, extra: true }, 400],
      [{ from: u, to: u, credits: 1 }, 400],
      [{ from: { orgId }, to: { orgId }, credits: 1 }, 400],
      [{ from: { userId: 'nobody-' + randomUUID() }, to: v, credits: 1 }, 404],
      [{ from: u, to: { userId: 'nobody-' + randomUUID() }, credits: 1 }, 404],
      // An org that does not exist: NOT_A_MEMBER, as every write naming an org answers.
      [{ from: u, to: { orgId: 'no-such-org' }, credits: 1 }, 403],
      [{ from: { orgId: 'no-such-org' }, to: v, credits: 1 }, 403],
      [{ from: { orgId }, to: v, credits: 1 }, 402],
    ];
    for (const [body, status] of cases) {
      const res = await transfer(body);
      expect(res.status, `${JSON.stringify(body)} → ${JSON.stringify(res.body)}`).toBe(status);
      expect(JSON.stringify(res.body)).not.toMatch(/credits_transfer|SELECT|at .*\.js/);
    }
    expect((await transfer({ from: { userId: 'nobody-x' }, to: v, credits: 1 })).body.message).toBe('User not found');
    expect((await transfer({ from: u, to: { orgId: 'no-such-org' }, credits: 1 })).body.code).toBe('NOT_A_MEMBER');
    // Who may: supervisors and admins; a user's token or API key may not, nor no credentials.
    await transfer({ from: u, to: v, credits: 1 }, user).expect(403);
    await transfer({ from: { userId: user.id }, to: v, credits: 1 }, user).expect(403);
    const key = await f.apiKey(from);
    await t.http
      .post('/api/credits/transfers')
      .set('X-API-Key', key.key)
      .send({ from: u, to: v, credits: 1 })
      .expect((r) => expect([401, 403]).toContain(r.status));
    await t.http.post('/api/credits/transfers').send({ from: u, to: v, credits: 1 }).expect(401);
    // The list: exactly one account, known, a valid cursor, supervisors only.
    await list({ userId: from.id, orgId }).expect(400);
    await list({ userId: 'nobody-' + randomUUID() }).expect(404);
    await list({ orgId: 'no-such-org' }).expect(404);
    await list({ userId: from.id, cursor: 'bm90IGEgY3Vyc29y' }).expect(400);
    await list({ userId: from.id, limit: 0 }).expect(400);
    await list({ userId: user.id }, user).expect(403);
    expect([await footprint('user', from.id), await footprint('user', to.id), await footprint('org', orgId)]).toEqual(
      before,
    );
  });

  it('an Idempotency-Key makes a retry answer the same transfer, moving nothing twice', async () => {
    const from = await f.newUser({ credits: 50 });
    const to = await f.newUser();
    const key = `xfer-${randomUUID()}`;
    const body = { from: { userId: from.id }, to: { userId: to.id }, credits: 20 };
    const first = await t.http
      .post('/api/credits/transfers')
      .set(supervisor.auth)
      .set('Idempotency-Key', key)
      .send(body);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const retry = await t.http
      .post('/api/credits/transfers')
      .set(supervisor.auth)
      .set('Idempotency-Key', key)
      .send(body);
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
    const other = await t.http
      .post('/api/credits/transfers')
      .set(supervisor.auth)
      .set('Idempotency-Key', key)
      .send({ ...body, credits: 21 });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await f.available(from.id)).toBe(30);
    expect(await f.available(to.id)).toBe(20);
    expect((await footprint('user', from.id)).transfers).toBe(1);
  });
});
