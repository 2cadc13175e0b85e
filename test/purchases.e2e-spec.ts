import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { expireAllocationNow } from './support/clock.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Buying credits (docs/purchases.md): a purchase grants one allocation,
 * once, when paid; refunds take back what is left and make the spent part debt; disputes freeze.
 */
describe('purchases', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  // A service principal: an admin's token (the platform's backend).
  const service = bearer(tokenFor('admin', 'purchases-service'));
  const supervisor = bearer(tokenFor('supervisor', 'purchases-supervisor'));

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'pu' });
  });
  afterAll(() => t.close());

  const create = (body: Record<string, unknown>) =>
    t.http
      .post('/api/purchases')
      .set(service)
      .send({ credits: 1000, amount: '10.00', currency: 'usd', provider: 'stripe', ...body });

  async function paidPurchase(u: { id: string }, body: Record<string, unknown> = {}) {
    const created = await create({ userId: u.id, ...body }).expect(201);
    const paid = await t.http.post(`/api/purchases/${created.body.id}/paid`).set(service).send({}).expect(200);
    return paid.body as { id: string; allocationId: string };
  }

  const spend = (u: FixtureUser, credits: number) =>
    t.http.post('/api/usage/record').set(u.auth).send({ service: 'chat', operation: 'completion', credits });
  const balance = async (u: FixtureUser) =>
    (await t.http.get('/api/credits/balance').set(u.auth).expect(200)).body as { totalCredits: number; debt: number };
  const allocationsOf = async (purchaseId: string) =>
    (await t.db.query(`SELECT id FROM credit_allocations WHERE purchase_id = $1`, [purchaseId])).rows;
  const ledgerOf = async (allocationId: string) =>
    (await t.db.query(`SELECT kind, amount FROM credit_ledger WHERE allocation_id = $1 ORDER BY id`, [allocationId]))
      .rows;
  const providerEvent = (id: string, body: Record<string, unknown>) =>
    t.http.post(`/api/purchases/${id}/provider-events`).set(service).send(body);

  it('creates a pending purchase that grants nothing until it is paid', async () => {
    const u = await f.newUser();
    const res = await create({ userId: u.id, providerRef: uniqueId('cs_test_') }).expect(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      userId: u.id,
      orgId: null,
      credits: 1000,
      packageId: null,
      bonusCredits: 0,
      amount: '10.00',
      currency: 'usd',
      provider: 'stripe',
      providerRef: expect.stringMatching(/^cs_test_/),
      providerPaymentId: null,
      status: 'pending_payment',
      allocationId: null,
      refundedCredits: 0,
      refundedAmount: '0.00',
      disputedCredits: 0,
      debtCreated: 0,
      autoRechargeAttemptId: null,
      createdAt: expect.any(String),
      paidAt: null,
    });
    expect((await balance(u)).totalCredits).toBe(0);
    // the same (provider, providerRef) again → 409, nothing written
    const again = await create({ userId: u.id, providerRef: res.body.providerRef }).expect(409);
    expect(again.body.code).toBe('PURCHASE_EXISTS');
    const n = await t.db.query(`SELECT count(*)::int AS n FROM purchases WHERE user_id = $1`, [u.id]);
    expect(n.rows[0].n).toBe(1);
  });

  it('paid twice, or 10 times in parallel, grants exactly one allocation', async () => {
    const u = await f.newUser();
    const one = await create({ userId: u.id }).expect(201);
    const first = await t.http
      .post(`/api/purchases/${one.body.id}/paid`)
      .set(service)
      .send({ providerPaymentId: 'pi_first' })
      .expect(200);
    expect(first.body).toMatchObject({
      status: 'paid',
      allocationId: expect.any(String),
      providerPaymentId: 'pi_first',
    });
    const second = await t.http.post(`/api/purchases/${one.body.id}/paid`).set(service).send({}).expect(200);
    expect(second.body).toEqual(first.body);
    expect(await allocationsOf(one.body.id)).toHaveLength(1);

    const two = await create({ userId: u.id, credits: 500, amount: '5.00' }).expect(201);
    const parallel = await Promise.all(
      Array.from({ length: 10 }, () => t.http.post(`/api/purchases/${two.body.id}/paid`).set(service).send({})),
    );
    expect(parallel.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(new Set(parallel.map((r) => r.body.allocationId)).size).toBe(1);
    expect(await allocationsOf(two.body.id)).toHaveLength(1);
    expect((await balance(u)).totalCredits).toBe(1500);
    const allocation = await t.db.query(
      `SELECT source, total_credits, expires_at, round(extract(epoch FROM expires_at - allocated_at) / 86400)::int AS days FROM credit_allocations WHERE purchase_id = $1`,
      [two.body.id],
    );
    expect(allocation.rows[0]).toMatchObject({ source: 'purchase', total_credits: 500 });
    expect(allocation.rows[0].days).toBe(365);
    const events = await t.db.query(
      `SELECT data FROM events WHERE type = 'purchase.paid' AND data->>'purchaseId' = $1`,
      [two.body.id],
    );
    expect(events.rows).toEqual([
      {
        data: {
          purchaseId: two.body.id,
          userId: u.id,
          allocationId: parallel[0].body.allocationId,
          credits: 500,
          expiresAt: (allocation.rows[0].expires_at as Date).toISOString(),
          amount: '5.00',
          currency: 'usd',
        },
      },
    ]);
    // The constraint, not the code, keeps it to one: a second allocation for the purchase is refused.
    await expect(
      t.db.query(
        `INSERT INTO credit_allocations (account_id, total_credits, remaining_credits, allocated_by, expires_at, source, purchase_id)
         SELECT account_id, 1, 0, 'x', now() + interval '1 day', 'purchase', purchase_id
           FROM credit_allocations WHERE purchase_id = $1`,
        [two.body.id],
      ),
    ).rejects.toThrow(/credit_allocations_purchase_id_key/);
  });

  it('fails and expires only pending purchases; a failed one is never paid', async () => {
    const u = await f.newUser();
    const failed = await create({ userId: u.id }).expect(201);
    const res = await t.http
      .post(`/api/purchases/${failed.body.id}/fail`)
      .set(service)
      .send({ reason: 'card_declined' })
      .expect(200);
    expect(res.body.status).toBe('failed');
    expect(
      (await t.http.post(`/api/purchases/${failed.body.id}/paid`).set(service).send({}).expect(409)).body.code,
    ).toBe('PURCHASE_NOT_PAYABLE');
    expect(
      (await t.http.post(`/api/purchases/${failed.body.id}/expire`).set(service).send({}).expect(409)).body.code,
    ).toBe('PURCHASE_NOT_PENDING');
    const expired = await create({ userId: u.id }).expect(201);
    await t.http.post(`/api/purchases/${expired.body.id}/expire`).set(service).send({}).expect(200);
    expect(
      (await t.http.post(`/api/purchases/${expired.body.id}/paid`).set(service).send({}).expect(409)).body.code,
    ).toBe('PURCHASE_NOT_PAYABLE');
    const paid = await paidPurchase(u);
    expect((await t.http.post(`/api/purchases/${paid.id}/fail`).set(service).send({}).expect(409)).body.code).toBe(
      'PURCHASE_NOT_PENDING',
    );
    expect((await balance(u)).totalCredits).toBe(1000);
    const audited = async (id: string) =>
      (await t.db.query(`SELECT action, actor_user_id FROM audit_log WHERE target_id = $1 ORDER BY at`, [id])).rows;
    expect(await audited(failed.body.id)).toEqual([
      { action: 'purchase.create', actor_user_id: 'purchases-service' },
      { action: 'purchase.fail', actor_user_id: 'purchases-service' },
    ]);
    expect(await audited(expired.body.id)).toEqual([
      { action: 'purchase.create', actor_user_id: 'purchases-service' },
      { action: 'purchase.expire', actor_user_id: 'purchases-service' },
    ]);
  });

  it('a provider refund of 4.00 on a 10.00 purchase of 1,000 credits takes back 400; what was spent becomes debt', async () => {
    // Nothing spent: all 400 leave the allocation.
    const a = await f.newUser();
    const pa = await paidPurchase(a);
    const res = await providerEvent(pa.id, { type: 'refunded', amountRefunded: '4.00' }).expect(200);
    expect(res.body).toMatchObject({
      status: 'partially_refunded',
      refundedCredits: 400,
      refundedAmount: '4.00',
      debtCreated: 0,
    });
    expect(await balance(a)).toMatchObject({ totalCredits: 600, debt: 0 });

    // 700 spent, 300 left: 300 leave the allocation, the other 100 become debt.
    const b = await f.newUser();
    const pb = await paidPurchase(b);
    await spend(b, 700).expect(201);
    await providerEvent(pb.id, { type: 'refunded', amountRefunded: '4.00' }).expect(200);
    expect(await balance(b)).toMatchObject({ totalCredits: 0, debt: 100 });
    expect(await ledgerOf(pb.allocationId)).toEqual([
      { kind: 'grant', amount: 1000 },
      { kind: 'debit', amount: -700 },
      { kind: 'refund', amount: -300 },
    ]);
    const debt = await t.db.query(
      `SELECT kind, amount, allocation_id FROM credit_ledger WHERE member_id = $1 AND kind = 'debt'`,
      [b.id],
    );
    expect(debt.rows).toEqual([{ kind: 'debt', amount: -100, allocation_id: null }]);

    // The same cumulative amount again, or a lower one: nothing changes.
    const same = await providerEvent(pb.id, { type: 'refunded', amountRefunded: '4.00' }).expect(200);
    await providerEvent(pb.id, { type: 'refunded', amountRefunded: '3.00' }).expect(200);
    expect(same.body).toMatchObject({ refundedCredits: 300, debtCreated: 100, refundedAmount: '4.00' });
    expect(await balance(b)).toMatchObject({ totalCredits: 0, debt: 100 });

    // The whole amount: 1000 − 400 = 600 more, none left, all spent → 600 more debt.
    const all = await providerEvent(pb.id, { type: 'refunded', amountRefunded: '10.00' }).expect(200);
    expect(all.body).toMatchObject({
      status: 'refunded',
      refundedCredits: 300,
      debtCreated: 700,
      refundedAmount: '10.00',
    });
    expect(await balance(b)).toMatchObject({ totalCredits: 0, debt: 700 });

    // The debt is repaid by the next grant first.
    await f.grant(b.id, 1000);
    expect(await balance(b)).toMatchObject({ totalCredits: 300, debt: 0 });
    const refunded = await t.db.query(
      `SELECT data FROM events WHERE type = 'purchase.refunded' AND data->>'purchaseId' = $1 ORDER BY created_at, id`,
      [pb.id],
    );
    expect(refunded.rows.map((r) => [r.data.origin, r.data.credits, r.data.debt, r.data.amount])).toEqual([
      ['provider', 300, 100, '4.00'],
      ['provider', 0, 600, '6.00'],
    ]);
    await expectInvariants(t, [a.id, b.id]);
  });

  it('quotes what is refundable and refunds it (admin), never more', async () => {
    const u = await f.newUser();
    const p = await paidPurchase(u);
    expect((await t.http.get(`/api/purchases/${p.id}/refundable`).set(u.auth).expect(200)).body).toEqual({
      credits: 1000,
      amount: '10.00',
    });
    await spend(u, 333).expect(201);
    expect((await t.http.get(`/api/purchases/${p.id}/refundable`).set(u.auth).expect(200)).body).toEqual({
      credits: 667,
      amount: '6.67',
    });
    const admin = bearer(tokenFor('admin', 'purchases-admin'));
    const tooMuch = await t.http.post(`/api/purchases/${p.id}/refunds`).set(admin).send({ credits: 668 }).expect(409);
    expect(tooMuch.body).toMatchObject({ code: 'REFUND_EXCEEDS_REFUNDABLE', refundableCredits: 667 });
    expect((await balance(u)).totalCredits).toBe(667);
    // supervisors may not refund
    await t.http.post(`/api/purchases/${p.id}/refunds`).set(supervisor).send({ credits: 1 }).expect(403);

    const refund = await t.http
      .post(`/api/purchases/${p.id}/refunds`)
      .set(admin)
      .send({ credits: 400, reason: 'asked' })
      .expect(201);
    expect(refund.body).toEqual({
      id: expect.any(String),
      purchaseId: p.id,
      credits: 400,
      amount: '4.00',
      createdAt: expect.any(String),
    });
    expect((await balance(u)).totalCredits).toBe(267);
    const view = await t.http.get(`/api/purchases/${p.id}`).set(u.auth).expect(200);
    expect(view.body).toMatchObject({ status: 'partially_refunded', refundedCredits: 400, refundedAmount: '4.00' });
    // Stripe then reports the refund the platform made: 4.00 is 400 credits, taken back already.
    await providerEvent(p.id, { type: 'refunded', amountRefunded: '4.00' }).expect(200);
    expect((await balance(u)).totalCredits).toBe(267);
    // The rest by default.
    const rest = await t.http.post(`/api/purchases/${p.id}/refunds`).set(admin).send({}).expect(201);
    expect(rest.body).toMatchObject({ credits: 267, amount: '2.67' });
    expect((await t.http.get(`/api/purchases/${p.id}`).set(u.auth).expect(200)).body).toMatchObject({
      status: 'partially_refunded',
      refundedCredits: 667,
      refundedAmount: '6.67',
    });
    const event = await t.db.query(
      `SELECT data FROM events WHERE type = 'purchase.refunded' AND data->>'refundId' = $1`,
      [refund.body.id],
    );
    expect(event.rows[0].data).toEqual({
      purchaseId: p.id,
      userId: u.id,
      refundId: refund.body.id,
      origin: 'admin',
      credits: 400,
      debt: 0,
      amount: '4.00',
      currency: 'usd',
    });
    const audit = await t.db.query(
      `SELECT action, actor_user_id FROM audit_log WHERE target_id = $1 AND action = 'purchase.refund'`,
      [p.id],
    );
    expect(audit.rows).toEqual([
      { action: 'purchase.refund', actor_user_id: 'purchases-admin' },
      { action: 'purchase.refund', actor_user_id: 'purchases-admin' },
    ]);
    await expectInvariants(t, [u.id]);
  });

  it('a dispute freezes what is left; won gives it back, lost takes it and makes the spent part debt', async () => {
    const u = await f.newUser({ credits: 50 });
    const p = await paidPurchase(u);
    await spend(u, 250).expect(201); // 50 from the manual grant (expires sooner? no: 30 days < 365), 200 from the purchase
    expect((await balance(u)).totalCredits).toBe(800);
    const opened = await providerEvent(p.id, { type: 'dispute_opened' }).expect(200);
    expect(opened.body).toMatchObject({ status: 'disputed', disputedCredits: 800 });
    expect(await balance(u)).toMatchObject({ totalCredits: 0 });
    // frozen credits cannot be spent, held or batched
    expect((await spend(u, 1)).status).toBe(402);
    const hold = await t.http
      .post('/api/streaming-sessions/initialize')
      .set(u.auth)
      .send({ modelId: 'purchases-model', estimatedTokens: 1000 });
    expect(hold.status).toBe(402);
    const batch = await t.http
      .post('/api/usage/records/batch')
      .set(u.auth)
      .send({ events: [{ eventId: uniqueId('ev'), service: 'chat', operation: 'c', credits: 1 }] });
    expect(batch.body).toMatchObject({ created: 0, rejected: 1, results: [{ status: 'insufficient_credits' }] });
    expect((await t.http.get(`/api/purchases/${p.id}/refundable`).set(u.auth).expect(200)).body.credits).toBe(0);
    const won = await providerEvent(p.id, { type: 'dispute_won' }).expect(200);
    expect(won.body).toMatchObject({ status: 'paid', disputedCredits: 0 });
    expect((await balance(u)).totalCredits).toBe(800);
    expect((await ledgerOf(p.allocationId)).map((l) => `${l.kind} ${l.amount}`)).toEqual([
      'grant 1000',
      'debit -200',
      'freeze -800',
      'unfreeze 800',
    ]);

    // A second dispute, lost: the 800 left are taken back, the 200 spent become debt.
    await providerEvent(p.id, { type: 'dispute_opened' }).expect(200);
    const lost = await providerEvent(p.id, { type: 'dispute_lost' }).expect(200);
    expect(lost.body).toMatchObject({
      status: 'charged_back',
      disputedCredits: 0,
      refundedCredits: 800,
      debtCreated: 200,
    });
    expect(await balance(u)).toMatchObject({ totalCredits: 0, debt: 200 });
    // after the chargeback nothing more changes
    await providerEvent(p.id, { type: 'dispute_lost' }).expect(200);
    await providerEvent(p.id, { type: 'refunded', amountRefunded: '10.00' }).expect(200);
    expect(await balance(u)).toMatchObject({ totalCredits: 0, debt: 200 });
    const closed = await t.db.query(
      `SELECT type, data FROM events WHERE type LIKE 'purchase.dispute%' AND data->>'purchaseId' = $1 ORDER BY created_at, id`,
      [p.id],
    );
    expect(closed.rows.map((r) => [r.type, r.data.outcome ?? null, r.data.credits, r.data.debt ?? null])).toEqual([
      ['purchase.disputed', null, 800, null],
      ['purchase.dispute_closed', 'won', 800, 0],
      ['purchase.disputed', null, 800, null],
      ['purchase.dispute_closed', 'lost', 800, 200],
    ]);
    await expectInvariants(t, [u.id]);
  });

  it('a provider refund during a dispute takes back from the frozen credits; the rest stays frozen', async () => {
    const u = await f.newUser();
    const p = await paidPurchase(u); // 1,000 credits for 10.00
    await spend(u, 700).expect(201);
    await providerEvent(p.id, { type: 'dispute_opened' }).expect(200);
    // 5.00 of 10.00 refunded: ceil(1000 × 5 / 10) = 500 taken back, 300 from what is left, 200 spent → debt.
    const refunded = await providerEvent(p.id, { type: 'refunded', amountRefunded: '5.00' }).expect(200);
    expect(refunded.body).toMatchObject({
      status: 'disputed',
      refundedCredits: 300,
      debtCreated: 200,
      disputedCredits: 0,
      refundedAmount: '5.00',
    });
    expect(await balance(u)).toMatchObject({ totalCredits: 0, debt: 200 });
    // The same cumulative amount again changes nothing; won gives back what stayed frozen (nothing).
    await providerEvent(p.id, { type: 'refunded', amountRefunded: '5.00' }).expect(200);
    const won = await providerEvent(p.id, { type: 'dispute_won' }).expect(200);
    expect(won.body).toMatchObject({ status: 'partially_refunded', refundedCredits: 300, debtCreated: 200 });
    expect((await t.http.get(`/api/purchases/${p.id}/refundable`).set(u.auth).expect(200)).body).toEqual({
      credits: 0,
      amount: '0.00',
    });
    await expectInvariants(t, [u.id]);
  });

  it('a provider refund during a dispute of an unspent purchase refreezes what is left', async () => {
    const u = await f.newUser();
    const p = await paidPurchase(u);
    await providerEvent(p.id, { type: 'dispute_opened' }).expect(200);
    const refunded = await providerEvent(p.id, { type: 'refunded', amountRefunded: '4.00' }).expect(200);
    expect(refunded.body).toMatchObject({
      status: 'disputed',
      refundedCredits: 400,
      debtCreated: 0,
      disputedCredits: 600,
    });
    expect(await balance(u)).toMatchObject({ totalCredits: 0, debt: 0 });
    const won = await providerEvent(p.id, { type: 'dispute_won' }).expect(200);
    expect(won.body).toMatchObject({ status: 'partially_refunded', disputedCredits: 0 });
    expect((await balance(u)).totalCredits).toBe(600);
    await expectInvariants(t, [u.id]);
  });

  it('credits unfrozen after their allocation expired leave again at once', async () => {
    const u = await f.newUser();
    const p = await paidPurchase(u);
    await providerEvent(p.id, { type: 'dispute_opened' }).expect(200);
    await expireAllocationNow(t.db, p.allocationId);
    const won = await providerEvent(p.id, { type: 'dispute_won' }).expect(200);
    expect(won.body).toMatchObject({ status: 'paid', disputedCredits: 0 });
    expect((await balance(u)).totalCredits).toBe(0);
    expect((await ledgerOf(p.allocationId)).map((l) => `${l.kind} ${l.amount}`)).toEqual([
      'grant 1000',
      'freeze -1000',
      'unfreeze 1000',
      'expire -1000',
    ]);
    // expired unused, never spent: a later chargeback makes no debt
    const lost = await providerEvent(p.id, { type: 'dispute_lost' }).expect(200);
    expect(lost.body).toMatchObject({ status: 'charged_back', refundedCredits: 0, debtCreated: 0 });
    expect(await balance(u)).toMatchObject({ totalCredits: 0, debt: 0 });
    await expectInvariants(t, [u.id]);
  });

  it('an org buys: its readers see the purchase, other members and outsiders do not', async () => {
    const org = uniqueId('org')
      .toLowerCase()
      .replace(/[^a-z0-9_-]/g, '');
    const owner = await f.newUser();
    const billing = await f.newUser();
    const member = await f.newUser();
    const outsider = await f.newUser();
    await t.db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'test')`, [org]);
    await t.db.query(
      `INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, 'owner'), ($1, $3, 'billing'), ($1, $4, 'member')`,
      [org, owner.id, billing.id, member.id],
    );
    const created = await create({ orgId: org, credits: 200, amount: '2.00' }).expect(201);
    expect(created.body).toMatchObject({ orgId: org, userId: null });
    const paid = await t.http.post(`/api/purchases/${created.body.id}/paid`).set(service).send({}).expect(200);
    const pool = await t.db.query(
      `SELECT credit_available((SELECT account_id FROM accounts WHERE org_id = $1))::int AS n`,
      [org],
    );
    expect(pool.rows[0].n).toBe(200);
    for (const reader of [owner, billing]) {
      expect((await t.http.get(`/api/purchases/${created.body.id}`).set(reader.auth).expect(200)).body).toEqual(
        paid.body,
      );
      const list = await t.http.get(`/api/purchases?orgId=${org}`).set(reader.auth).expect(200);
      expect(list.body.items.map((p: { id: string }) => p.id)).toEqual([created.body.id]);
    }
    for (const other of [member, outsider]) {
      await t.http.get(`/api/purchases/${created.body.id}`).set(other.auth).expect(404);
      await t.http.get(`/api/purchases/${created.body.id}/refundable`).set(other.auth).expect(404);
    }
    // Naming the org (the access rule): a member below billing → 403, an outsider → 404 as for no org.
    await t.http.get(`/api/purchases?orgId=${org}`).set(member.auth).expect(403);
    await t.http.get(`/api/purchases?orgId=${org}`).set(outsider.auth).expect(404);
    // the org's own purchases are not a member's
    expect((await t.http.get('/api/purchases').set(owner.auth).expect(200)).body.items).toEqual([]);
    // a refund by the provider takes from the org's pool
    await providerEvent(created.body.id, { type: 'refunded', amountRefunded: '1.00' }).expect(200);
    const after = await t.db.query(
      `SELECT credit_available((SELECT account_id FROM accounts WHERE org_id = $1))::int AS n`,
      [org],
    );
    expect(after.rows[0].n).toBe(100);
    // an unknown org → 403 NOT_A_MEMBER, as every write naming an org answers
    expect((await create({ orgId: 'no-such-org-here' }).expect(403)).body.code).toBe('NOT_A_MEMBER');
  });

  it('a purchase made for an auto-recharge attempt closes it when paid', async () => {
    const u = await f.newUser();
    const other = await f.newUser();
    const attempt = async (userId: string, status = 'open') =>
      (
        await t.db.query(
          `INSERT INTO auto_recharge_attempts (account_id, credits, status, closed_at)
           VALUES ((SELECT account_id FROM accounts WHERE user_id = $1), 1000, $2::varchar, CASE WHEN $2::varchar = 'open' THEN NULL ELSE now() END) RETURNING id`,
          [userId, status],
        )
      ).rows[0].id as string;
    const open = await attempt(u.id);
    const created = await create({ userId: u.id, autoRechargeAttemptId: open }).expect(201);
    expect(created.body.autoRechargeAttemptId).toBe(open);
    const status = async (id: string) =>
      (await t.db.query(`SELECT status FROM auto_recharge_attempts WHERE id = $1`, [id])).rows[0].status;
    expect(await status(open)).toBe('open');
    await t.http.post(`/api/purchases/${created.body.id}/paid`).set(service).send({}).expect(200);
    expect(await status(open)).toBe('succeeded');
    expect((await balance(u)).totalCredits).toBe(1000);
    // another account's attempt → 404; a closed one → 409; nothing created
    const before = (await t.db.query(`SELECT count(*)::int AS n FROM purchases WHERE user_id = $1`, [u.id])).rows[0].n;
    await create({ userId: u.id, autoRechargeAttemptId: await attempt(other.id) }).expect(404);
    expect((await create({ userId: u.id, autoRechargeAttemptId: open }).expect(409)).body.code).toBe(
      'AUTO_RECHARGE_ATTEMPT_CLOSED',
    );
    const failed = await attempt(u.id, 'failed');
    expect((await create({ userId: u.id, autoRechargeAttemptId: failed }).expect(409)).body.code).toBe(
      'AUTO_RECHARGE_ATTEMPT_CLOSED',
    );
    expect((await t.db.query(`SELECT count(*)::int AS n FROM purchases WHERE user_id = $1`, [u.id])).rows[0].n).toBe(
      before,
    );
  });

  it('a user reads only their own purchases and settles none', async () => {
    const alice = await f.newUser();
    const bob = await f.newUser();
    const p = await paidPurchase(alice);
    await t.http.get(`/api/purchases/${p.id}`).set(bob.auth).expect(404);
    await t.http.get(`/api/purchases/${p.id}/refundable`).set(bob.auth).expect(404);
    // Another user's account is one bob may not see: 404, as for no such user.
    expect((await t.http.get(`/api/purchases?userId=${alice.id}`).set(bob.auth).expect(404)).body.code).toBe(
      'NOT_FOUND',
    );
    expect((await t.http.get('/api/purchases').set(bob.auth).expect(200)).body.items).toEqual([]);
    const own = await t.http.get('/api/purchases').set(alice.auth).expect(200);
    expect(own.body.items.map((x: { id: string }) => x.id)).toEqual([p.id]);
    expect((await t.http.get(`/api/purchases?userId=${alice.id}`).set(supervisor).expect(200)).body.items).toHaveLength(
      1,
    );
    // the buyer never decides it paid, nor creates purchases
    const pending = await create({ userId: bob.id }).expect(201);
    await t.http.post(`/api/purchases/${pending.body.id}/paid`).set(bob.auth).send({}).expect(403);
    await t.http
      .post('/api/purchases')
      .set(bob.auth)
      .send({ userId: bob.id, credits: 1, amount: '1.00', currency: 'usd', provider: 'x' })
      .expect(403);
    await t.http
      .post(`/api/purchases/${p.id}/provider-events`)
      .set(bob.auth)
      .send({ type: 'dispute_opened' })
      .expect(403);
    await t.http.post(`/api/purchases/${p.id}/refunds`).set(bob.auth).send({}).expect(403);
    const key = await f.apiKey(bob);
    await t.http.post(`/api/purchases/${pending.body.id}/paid`).set('X-API-Key', key.key).send({}).expect(403);
    expect((await balance(bob)).totalCredits).toBe(0);
    const row = await t.db.query(`SELECT status FROM purchases WHERE id = $1`, [pending.body.id]);
    expect(row.rows[0].status).toBe('pending_payment');
    // the platform's service key (usage:ingest, made by an admin) may: it is a service principal
    const serviceKey = await f.apiKey(
      { auth: bearer(tokenFor('admin', 'purchases-key-admin')) },
      { name: 'platform', permissions: ['usage:ingest'] },
    );
    await t.http.post(`/api/purchases/${pending.body.id}/paid`).set('X-API-Key', serviceKey.key).send({}).expect(200);
    expect((await balance(bob)).totalCredits).toBe(1000);
  });

  it('answers bad input with a 4xx and changes nothing', async () => {
    const u = await f.newUser();
    const before = await t.db.query(`SELECT count(*)::int AS n FROM purchases`);
    const bad: Record<string, unknown>[] = [
      { userId: u.id, amount: '10.001' },
      { userId: u.id, amount: '0.00' },
      { userId: u.id, amount: 10 },
      { userId: u.id, amount: '-1.00' },
      { userId: u.id, currency: 'USD' },
      { userId: u.id, credits: 0 },
      { userId: u.id, credits: 2_147_483_648 },
      { userId: u.id, expiryDays: 0 },
      { userId: u.id, provider: '' },
      { userId: u.id, provider: 'x'.repeat(31) },
      { userId: u.id, providerRef: 'r'.repeat(256) },
      { userId: u.id, autoRechargeAttemptId: 'not-a-uuid' },
      { userId: u.id, orgId: 'acme' },
      {},
      { userId: u.id, surprise: true },
    ];
    for (const body of bad) {
      const res = await create(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    expect((await t.db.query(`SELECT count(*)::int AS n FROM purchases`)).rows[0].n).toBe(before.rows[0].n);
    await create({ userId: 'nobody-here' }).expect(404);
    await t.http.get('/api/purchases/not-a-uuid').set(service).expect(404);
    await t.http.post('/api/purchases/7e0b6c1a-3f52-4d8e-9a61-2c4b5d6e7f80/paid').set(service).send({}).expect(404);
    const p = await paidPurchase(u);
    for (const body of [
      { type: 'refunded' },
      { type: 'refunded', amountRefunded: '10.01' },
      { type: 'refunded', amountRefunded: 'four' },
      { type: 'dispute_opened', amountRefunded: '1.00' },
      { type: 'chargeback' },
    ]) {
      expect((await providerEvent(p.id, body)).status, JSON.stringify(body)).toBe(400);
    }
    const admin = bearer(tokenFor('admin', 'purchases-admin'));
    await t.http.post(`/api/purchases/${p.id}/refunds`).set(admin).send({ credits: 0 }).expect(400);
    await t.http.post(`/api/purchases/${p.id}/refunds`).set(admin).send({ credits: 1.5 }).expect(400);
    const pending = await create({ userId: u.id }).expect(201);
    expect((await providerEvent(pending.body.id, { type: 'dispute_opened' }).expect(409)).body.code).toBe(
      'PURCHASE_NOT_PAID',
    );
    expect(
      (await t.http.post(`/api/purchases/${pending.body.id}/refunds`).set(admin).send({}).expect(409)).body.code,
    ).toBe('REFUND_EXCEEDS_REFUNDABLE');
    expect(await balance(u)).toMatchObject({ totalCredits: 1000, debt: 0 });
    expect((await t.http.get(`/api/purchases/${p.id}`).set(u.auth).expect(200)).body).toMatchObject({
      status: 'paid',
      refundedCredits: 0,
      disputedCredits: 0,
    });
  });

  it('the invariants hold after a mixed workload of purchases, spending, refunds and disputes', async () => {
    const buyers = await Promise.all(Array.from({ length: 4 }, () => f.newUser({ credits: 100 })));
    const admin = bearer(tokenFor('admin', 'purchases-admin'));
    const work = buyers.map(async (u, i) => {
      const ps = await Promise.all([paidPurchase(u), paidPurchase(u, { credits: 300, amount: '3.00' })]);
      await Promise.all([
        ...Array.from({ length: 6 }, () => spend(u, 97)),
        providerEvent(ps[0].id, { type: 'refunded', amountRefunded: `${i + 1}.50` }),
        t.http.post(`/api/purchases/${ps[1].id}/refunds`).set(admin).send({ credits: 10 }),
        providerEvent(ps[1].id, { type: 'dispute_opened' }),
        t.http.post(`/api/purchases/${ps[0].id}/paid`).set(service).send({}),
      ]);
      await Promise.all([
        providerEvent(ps[1].id, { type: i % 2 === 0 ? 'dispute_lost' : 'dispute_won' }),
        ...Array.from({ length: 4 }, () => spend(u, 150)),
        providerEvent(ps[0].id, { type: 'refunded', amountRefunded: '9.99' }),
      ]);
    });
    await Promise.all(work);
    for (const u of buyers) {
      const rows = await t.db.query(
        `SELECT count(*)::int AS n FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) AND source = 'purchase'`,
        [u.id],
      );
      expect(rows.rows[0].n).toBe(2);
    }
    await expectInvariants(
      t,
      buyers.map((u) => u.id),
    );
    // every purchase's figures agree with its ledger: taken back = its refund entries, debt = its refund rows
    const agree = await t.db.query(
      `SELECT p.id, p.refunded_credits, p.debt_created,
              (SELECT COALESCE(-sum(l.amount), 0)::int FROM credit_ledger l JOIN credit_allocations a ON a.id = l.allocation_id
                WHERE a.purchase_id = p.id AND l.kind = 'refund') AS refund_entries,
              (SELECT COALESCE(sum(r.debt), 0)::int FROM purchase_refunds r WHERE r.purchase_id = p.id) AS refund_debt
         FROM purchases p WHERE p.user_id = ANY($1)`,
      [buyers.map((u) => u.id)],
    );
    expect(agree.rows).toHaveLength(8);
    for (const r of agree.rows) {
      expect(r.refunded_credits, r.id).toBe(r.refund_entries);
      expect(r.debt_created, r.id).toBe(r.refund_debt);
    }
    const debts = await t.db.query(
      `SELECT sum(debt)::int AS n FROM credit_accounts WHERE account_id IN (SELECT (SELECT account_id FROM accounts WHERE user_id = u) FROM unnest($1::varchar[]) u)`,
      [buyers.map((u) => u.id)],
    );
    expect(debts.rows[0].n).toBeGreaterThan(0);
  });
});
