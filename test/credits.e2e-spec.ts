import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CreditExpiryJob } from '../src/plans/credit-expiry.job.js';
import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { expireAllocationNow } from './support/clock.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const DAY = 86_400_000;
/** The seeded sonnet rule: 3 credits per 1k tokens, so 1000 estimated tokens hold 4. */
const SONNET = 'anthropic.claude-3-sonnet-20240229-v1:0';

describe('credits', () => {
  let t: TestApp;
  const admin = bearer(tokenFor('admin', 'credits-admin'));
  const supervisor = bearer(tokenFor('supervisor', 'credits-supervisor'));
  let f: Fixtures;

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { granter: tokenFor('supervisor', 'credits-supervisor'), prefix: 'cr' });
  });
  afterAll(() => t.close());

  it('allocates, reports the balance and the ledger', async () => {
    const u = await f.newUser();
    const res = await f.allocate(u.id, { credits: 100, notes: 'welcome' }).expect(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      userId: u.id,
      orgId: null,
      totalCredits: 100,
      remainingCredits: 100,
      allocatedBy: 'credits-supervisor',
      allocatedAt: expect.any(String),
      expiresAt: expect.any(String),
      notes: 'welcome',
      source: 'manual',
      planId: null,
      periodStart: null,
      purchaseId: null,
      voidedAt: null,
      voidedBy: null,
      voidReason: null,
      // An allocation without a value is promotional (docs/finance.md).
      value: null,
      valueRemaining: null,
      promotional: true,
    });
    const days = (Date.parse(res.body.expiresAt) - Date.parse(res.body.allocatedAt)) / DAY;
    expect(days).toBeCloseTo(30, 1);

    const balance = await t.http.get('/api/credits/balance').set(u.auth).expect(200);
    expect(balance.body).toEqual({
      userId: u.id,
      totalCredits: 100,
      heldCredits: 0,
      debt: 0,
      billingCurrency: null,
      activeAllocations: [
        {
          id: res.body.id,
          credits: 100,
          totalCredits: 100,
          expiresAt: res.body.expiresAt,
          allocatedAt: res.body.allocatedAt,
          notes: 'welcome',
          source: 'manual',
          planId: null,
          periodStart: null,
          purchaseId: null,
        },
      ],
    });
    const me = await t.http.get('/api/users/me').set(u.auth).expect(200);
    expect(me.body.totalCredits).toBe(100);

    const ledger = await t.http.get('/api/credits/ledger').set(u.auth).expect(200);
    expect(ledger.body.items).toEqual([
      expect.objectContaining({
        userId: u.id,
        allocationId: res.body.id,
        kind: 'grant',
        amount: 100,
        balanceAfter: 100,
        createdBy: 'credits-supervisor',
      }),
    ]);
    await expectInvariants(t, [u.id]);
  });

  it('a record debits soonest-expiring allocations first, ties by oldest', async () => {
    const u = await f.newUser();
    const late = (await f.allocate(u.id, { credits: 10, expiryDays: 60 }).expect(201)).body;
    const soon = (await f.allocate(u.id, { credits: 5, expiryDays: 2 }).expect(201)).body;
    const sameExpiry = new Date(Date.now() + 10 * DAY).toISOString();
    const tieOld = (await f.allocate(u.id, { credits: 3, expiresAt: sameExpiry }).expect(201)).body;
    const tieNew = (await f.allocate(u.id, { credits: 3, expiresAt: sameExpiry }).expect(201)).body;

    const record = (await f.recordUsage(u, 10).expect(201)).body;

    const balance = (await t.http.get('/api/credits/balance').set(u.auth).expect(200)).body;
    expect(balance.totalCredits).toBe(11);
    // soon (5) fully used, tieOld (3) fully used, tieNew gives 2 of 3, late untouched.
    expect(balance.activeAllocations.map((a: { id: string; credits: number }) => [a.id, a.credits])).toEqual([
      [tieNew.id, 1],
      [late.id, 10],
    ]);
    const ledger = (await t.http.get('/api/credits/ledger').set(u.auth).expect(200)).body.items;
    const debits = ledger.filter((e: { kind: string }) => e.kind === 'debit').reverse();
    type Entry = { allocationId: string; amount: number; balanceAfter: number; usageRecordId: string };
    expect(debits.map((e: Entry) => [e.allocationId, e.amount, e.balanceAfter, e.usageRecordId])).toEqual([
      [soon.id, -5, 16, record.id],
      [tieOld.id, -3, 13, record.id],
      [tieNew.id, -2, 11, record.id],
    ]);
    await expectInvariants(t, [u.id]);
  });

  it('a record that is short fails with 402 details and writes nothing', async () => {
    const u = await f.newUser();
    await f.allocate(u.id, { credits: 7 }).expect(201);
    const written = async () =>
      (
        await t.db.query(
          `SELECT (SELECT count(*) FROM credit_ledger WHERE member_id = $1)::int AS entries,
                  (SELECT count(*) FROM usage_records WHERE user_id = $1)::int AS records`,
          [u.id],
        )
      ).rows[0];
    const short = await f.recordUsage(u, 8).expect(402);
    expect(short.body).toMatchObject({ code: 'INSUFFICIENT_CREDITS', requiredCredits: 8, availableCredits: 7 });
    expect(await written()).toEqual({ entries: 1, records: 0 });
    expect((await t.http.get('/api/credits/balance').set(u.auth)).body.totalCredits).toBe(7);
    // 0 credits: the record alone, no entry.
    await f.recordUsage(u, 0).expect(201);
    expect(await written()).toEqual({ entries: 1, records: 1 });
    // A settlement's overrun takes what is there, no debt: hold 4, charge 12 → 3 more collected, 5 short.
    const { body: s } = await t.http
      .post('/api/streaming-sessions/initialize')
      .set(u.auth)
      .send({ modelId: SONNET, estimatedTokens: 1000 })
      .expect(201);
    const settled = await t.http
      .post('/api/streaming-sessions/finalize')
      .set(u.auth)
      .send({ sessionId: s.sessionId, actualTokens: 4000 })
      .expect(200);
    expect(settled.body).toMatchObject({ allocatedCredits: 4, actualCredits: 12, refund: 0, shortfall: 5 });
    expect(await f.usageRecordsOf(s.sessionId)).toEqual([expect.objectContaining({ credits: 7 })]);
    expect((await t.http.get('/api/credits/balance').set(u.auth)).body).toMatchObject({ totalCredits: 0, debt: 0 });
    await expectInvariants(t, [u.id]);
  });

  it('check answers sufficiency without changing anything', async () => {
    const u = await f.newUser();
    await f.allocate(u.id, { credits: 30 }).expect(201);
    const ok = await t.http.post('/api/credits/check').set(u.auth).send({ credits: 30 }).expect(200);
    expect(ok.body).toEqual({ sufficient: true, requiredCredits: 30, availableCredits: 30 });
    const short = await t.http.post('/api/credits/check').set(u.auth).send({ credits: 31 }).expect(200);
    expect(short.body).toEqual({ sufficient: false, requiredCredits: 31, availableCredits: 30 });
    await t.http.post('/api/credits/check').set(u.auth).send({ credits: -1 }).expect(400);
  });

  it('calculate prices exactly with the model rule or the default', async () => {
    const u = await f.newUser();
    const haiku = await t.http
      .post('/api/credits/calculate')
      .set(u.auth)
      .send({ modelId: 'anthropic.claude-3-haiku-20240307-v1:0', tokens: 4001 })
      .expect(200);
    expect(haiku.body).toMatchObject({
      modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
      tokens: 4001,
      credits: 2,
      pricePer1kTokens: '0.2500',
    });
    const unknown = await t.http
      .post('/api/credits/calculate')
      .set(u.auth)
      .send({ modelId: 'no-such-model', tokens: 1500 })
      .expect(200);
    expect(unknown.body).toMatchObject({ credits: 2, pricePer1kTokens: '1.0000', source: 'default' });
    const split = await t.http
      .post('/api/credits/calculate')
      .set(u.auth)
      .send({ modelId: 'anthropic.claude-3-sonnet-20240229-v1:0', inputTokens: 100, outputTokens: 200 })
      .expect(200);
    expect(split.body).toMatchObject({ tokens: 300, credits: 1, pricePer1kTokens: '3.0000' });
    await t.http.post('/api/credits/calculate').set(u.auth).send({ modelId: 'x' }).expect(400);
    await t.http.post('/api/credits/calculate').set(u.auth).send({ modelId: 'x', tokens: 1.5 }).expect(400);
    await t.http
      .post('/api/credits/calculate')
      .set(u.auth)
      .send({ modelId: 'x', tokens: 5, inputTokens: 5 })
      .expect(400);
  });

  it('expired allocations never count and never pay; the expiry job writes one expire entry, once', async () => {
    const u = await f.newUser();
    const shortLived = (await f.allocate(u.id, { credits: 40, expiryDays: 1 }).expect(201)).body;
    const longLived = (await f.allocate(u.id, { credits: 5, expiryDays: 5 }).expect(201)).body;
    await f.recordUsage(u, 15).expect(201);
    expect((await t.http.get('/api/credits/balance').set(u.auth)).body.totalCredits).toBe(30);

    await expireAllocationNow(t.db, shortLived.id);
    const balance = (await t.http.get('/api/credits/balance').set(u.auth).expect(200)).body;
    expect(balance.totalCredits).toBe(5);
    expect(balance.activeAllocations.map((a: { id: string }) => a.id)).toEqual([longLived.id]);
    expect((await t.http.get('/api/users/me').set(u.auth)).body.totalCredits).toBe(5);
    const short = await f.recordUsage(u, 6).expect(402);
    expect(short.body).toMatchObject({ requiredCredits: 6, availableCredits: 5 });

    await t.app.get(CreditExpiryJob).expireDue();
    await t.app.get(CreditExpiryJob).expireDue();
    const expires = await t.db.query(
      `SELECT allocation_id, amount, balance_after FROM credit_ledger WHERE member_id = $1 AND kind = 'expire'`,
      [u.id],
    );
    expect(expires.rows).toEqual([{ allocation_id: shortLived.id, amount: -25, balance_after: '5' }]);
    const row = await t.db.query(`SELECT remaining_credits FROM credit_allocations WHERE id = $1`, [shortLived.id]);
    expect(row.rows[0].remaining_credits).toBe(0);
    // Processed allocations leave the job's index (expiry_done); unexpired ones stay in it.
    const done = await t.db.query(
      `SELECT id, expiry_done FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
      [u.id],
    );
    expect(
      Object.fromEntries(done.rows.map((r: { id: string; expiry_done: boolean }) => [r.id, r.expiry_done])),
    ).toEqual({
      [shortLived.id]: true,
      [longLived.id]: false,
    });

    const listed = (await t.http.get('/api/credits/allocations').set(u.auth).expect(200)).body.items;
    expect(listed.map((a: { id: string }) => a.id)).toEqual([longLived.id]);
    const all = (await t.http.get('/api/credits/allocations?includeExpired=true').set(u.auth).expect(200)).body.items;
    expect(all.map((a: { id: string }) => a.id).sort()).toEqual([shortLived.id, longLived.id].sort());
    await expectInvariants(t, [u.id]);
  });

  it('voids an allocation through a void entry; voiding again changes nothing', async () => {
    const u = await f.newUser();
    const a = (await f.allocate(u.id, { credits: 50 }).expect(201)).body;
    await f.allocate(u.id, { credits: 5, expiryDays: 90 }).expect(201);
    await f.recordUsage(u, 8).expect(201);
    await t.http.post(`/api/credits/allocations/${a.id}/void`).set(supervisor).send({}).expect(403);
    const voided = await t.http
      .post(`/api/credits/allocations/${a.id}/void`)
      .set(admin)
      .send({ reason: 'wrong account' })
      .expect(200);
    expect(voided.body).toMatchObject({ id: a.id, userId: u.id, totalCredits: 50, remainingCredits: 0 });
    const again = await t.http.post(`/api/credits/allocations/${a.id}/void`).set(admin).send({}).expect(200);
    expect(again.body.remainingCredits).toBe(0);
    const voids = await t.db.query(
      `SELECT amount, balance_after, created_by FROM credit_ledger WHERE allocation_id = $1 AND kind = 'void'`,
      [a.id],
    );
    expect(voids.rows).toEqual([{ amount: -42, balance_after: '5', created_by: 'credits-admin' }]);
    expect((await t.http.get('/api/credits/balance').set(u.auth)).body.totalCredits).toBe(5);
    await t.http
      .post(`/api/credits/allocations/00000000-0000-4000-8000-000000000000/void`)
      .set(admin)
      .send({})
      .expect(404);
    await t.http.post(`/api/credits/allocations/not-a-uuid/void`).set(admin).send({}).expect(404);
    await t.http.post(`/api/credits/allocations/${a.id}/void`).set(admin).send({ extra: 1 }).expect(400);
    await expectInvariants(t, [u.id]);
  });

  it('allocating to an unknown user: 404, or the account is created with email and username', async () => {
    const id = uniqueId('new');
    const missing = await f.allocate(id, { credits: 10 }).expect(404);
    expect(missing.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    await f.allocate(id, { credits: 10, email: `${id}@example.com` }).expect(404);
    const created = await f.allocate(id, { credits: 10, email: `${id}@example.com`, username: id }).expect(201);
    expect(created.body).toMatchObject({ userId: id, totalCredits: 10, remainingCredits: 10 });
    const account = await t.db.query(`SELECT email, username, role FROM user_accounts WHERE user_id = $1`, [id]);
    expect(account.rows).toEqual([{ email: `${id}@example.com`, username: id, role: 'user' }]);
    const balance = await t.http.get(`/api/credits/balance/${id}`).set(supervisor).expect(200);
    expect(balance.body.totalCredits).toBe(10);
    await t.http
      .get(`/api/credits/balance/${uniqueId('nobody')}`)
      .set(supervisor)
      .expect(404);
  });

  it('only supervisors allocate; a user cannot read another user’s balance, allocations or ledger', async () => {
    const alice = await f.newUser();
    const bob = await f.newUser();
    await f.allocate(bob.id, { credits: 10 }).expect(201);
    await t.http.post('/api/credits/allocate').set(alice.auth).send({ userId: alice.id, credits: 10 }).expect(403);
    // Another user's account is one alice may not see: 404, as for no such user.
    await t.http.get(`/api/credits/balance/${bob.id}`).set(alice.auth).expect(404);
    await t.http.get(`/api/credits/allocations?userId=${bob.id}`).set(alice.auth).expect(404);
    await t.http.get(`/api/credits/ledger?userId=${bob.id}`).set(alice.auth).expect(404);
    await t.http.get('/api/credits/reconcile').set(alice.auth).expect(403);
    await t.http.get('/api/credits/reconcile').set(supervisor).expect(403);
    // Own data through userId works; supervisors read anyone's.
    await t.http.get(`/api/credits/ledger?userId=${alice.id}`).set(alice.auth).expect(200);
    const bobs = await t.http.get(`/api/credits/allocations?userId=${bob.id}`).set(supervisor).expect(200);
    expect(bobs.body.items).toHaveLength(1);
    const ledger = await t.http.get(`/api/credits/ledger?userId=${bob.id}`).set(supervisor).expect(200);
    expect(ledger.body.items).toHaveLength(1);
    await t.http
      .get(`/api/credits/ledger?userId=${uniqueId('nobody')}`)
      .set(supervisor)
      .expect(404);
    await t.http.get('/api/credits/balance').expect(401);
  });

  it.each([
    ['credits -1', { credits: -1 }],
    ['credits 0', { credits: 0 }],
    ['credits 1.5', { credits: 1.5 }],
    ['credits "abc"', { credits: 'abc' }],
    ['credits 3e9', { credits: 3e9 }],
    ['credits missing', {}],
    ['expiresAt in the past', { credits: 5, expiresAt: new Date(Date.now() - 60_000).toISOString() }],
    ['expiresAt not a date', { credits: 5, expiresAt: 'tomorrow' }],
    ['expiryDays 0', { credits: 5, expiryDays: 0 }],
    ['expiryDays 3651', { credits: 5, expiryDays: 3651 }],
    ['both expiry forms', { credits: 5, expiryDays: 3, expiresAt: new Date(Date.now() + DAY).toISOString() }],
    ['an unknown field', { credits: 5, remainingCredits: 5 }],
  ])('allocate with %s → 400 and nothing written', async (_name, body) => {
    const u = await f.newUser();
    const res = await f.allocate(u.id, body).expect(400);
    expect(Array.isArray(res.body.message)).toBe(true);
    const rows = await t.db.query(
      `SELECT (SELECT count(*) FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1))::int AS a, (SELECT count(*) FROM credit_ledger WHERE member_id = $1)::int AS l`,
      [u.id],
    );
    expect(rows.rows[0]).toEqual({ a: 0, l: 0 });
  });

  it('a NUL character in a text field or path id is bad input (400), not a 500', async () => {
    const u = await f.newUser();
    await f.allocate(u.id, { credits: 5, notes: 'a\u0000b' }).expect(400);
    await f.allocate('a\u0000b', { credits: 5 }).expect(400);
    await t.http.get('/api/credits/balance/a%00b').set(supervisor).expect(400);
    await t.http.get('/api/users').query({ search: 'a\u0000b' }).set(supervisor).expect(400);
    const rows = await t.db.query(
      `SELECT count(*)::int AS n FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1)`,
      [u.id],
    );
    expect(rows.rows[0].n).toBe(0);
  });

  it('the ledger is append-only', async () => {
    const u = await f.newUser();
    await f.allocate(u.id, { credits: 3 }).expect(201);
    await expect(t.db.query(`UPDATE credit_ledger SET amount = 1000 WHERE member_id = $1`, [u.id])).rejects.toThrow(
      /append-only/,
    );
    await expect(t.db.query(`DELETE FROM credit_ledger WHERE member_id = $1`, [u.id])).rejects.toThrow(/append-only/);
  });
});
