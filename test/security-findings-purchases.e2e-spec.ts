import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Transactions } from '../src/database/transactions.js';
import { PurchasesRepository } from '../src/purchases/purchases.repository.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, principal, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

// The security review's findings about money that should not exist (docs/purchases.md, docs/api-keys.md):
// a demoted admin's service key minted a purchase; credits held by open sessions came back spendable
// after a full refund (958 spent) or during a dispute (900 transferred out); /refundable then offered
// credits of a refunded purchase, and a second refund answered 500.

describe('security findings: purchases', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const service = bearer(tokenFor('admin', 'sf-purchases-service'));
  const supervisor = bearer(tokenFor('supervisor', 'sf-purchases-supervisor'));
  // One credit per token, so a session's figures are its token counts.
  const MODEL = uniqueId('sf-model');

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'sfp' });
    await t.http.post('/api/pricing').set(service).send({ modelId: MODEL, pricePer1kTokens: '1000' }).expect(201);
  });
  afterAll(() => t?.close());

  async function paidPurchase(u: { id: string }, credits = 1000, amount = '10.00') {
    const created = await t.http
      .post('/api/purchases')
      .set(service)
      .send({ userId: u.id, credits, amount, currency: 'usd', provider: 'stripe' })
      .expect(201);
    const paid = await t.http.post(`/api/purchases/${created.body.id}/paid`).set(service).send({}).expect(200);
    return paid.body as { id: string; allocationId: string };
  }
  /** Holds ceil(estimate × 6 / 5) credits. */
  const open = async (u: FixtureUser, estimate: number, sessionId = uniqueId('s')) => {
    const res = await t.http
      .post('/api/streaming-sessions/initialize')
      .set(u.auth)
      .send({ modelId: MODEL, estimatedTokens: estimate, sessionId });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { sessionId, held: res.body.allocatedCredits as number };
  };
  const finalize = (u: FixtureUser, sessionId: string, used: number) =>
    t.http.post('/api/streaming-sessions/finalize').set(u.auth).send({ sessionId, actualTokens: used });
  const providerEvent = (id: string, body: Record<string, unknown>) =>
    t.http.post(`/api/purchases/${id}/provider-events`).set(service).send(body);
  const balance = async (u: FixtureUser) =>
    (await t.http.get('/api/credits/balance').set(u.auth).expect(200)).body as {
      totalCredits: number;
      heldCredits: number;
      debt: number;
    };
  const refundable = async (u: FixtureUser, id: string) =>
    (await t.http.get(`/api/purchases/${id}/refundable`).set(u.auth).expect(200)).body as {
      credits: number;
      amount: string;
    };
  const recordOf = async (sessionId: string) =>
    (
      await t.db.query(
        `SELECT credits, shortfall, billing_status, review_status FROM usage_records WHERE metadata->>'sessionId' = $1`,
        [sessionId],
      )
    ).rows[0];

  describe('finding: demoted admin service key', () => {
    it('works only while its creator is an admin: after a demotion 401, listed with creatorIsAdmin false', async () => {
      const buyer = await f.newUser();
      const creator = principal('admin', 'sfp-creator');
      await t.http.get('/api/users/me').set(creator.auth).expect(200);
      const key = await f.apiKey(creator, { name: 'backend', permissions: ['usage:ingest'] });
      const viaKey = { 'X-API-Key': key.key };
      const purchase = (credits: number) =>
        t.http
          .post('/api/purchases')
          .set(viaKey)
          .send({ userId: buyer.id, credits, amount: '0.01', currency: 'usd', provider: 'stripe' });
      const first = await purchase(10).expect(201);

      // The creator's next token says user: the account is demoted.
      await t.http
        .get('/api/users/me')
        .set(bearer(token({ sub: creator.id, role: 'user' })))
        .expect(200);
      const minted = await purchase(2_147_483_647);
      expect(minted.status).toBe(401);
      await t.http.post(`/api/purchases/${first.body.id}/paid`).set(viaKey).send({}).expect(401);
      await t.http
        .post('/api/usage/record')
        .set(viaKey)
        .send({ userId: buyer.id, service: 'chat', operation: 'c', credits: 0 })
        .expect(401);
      const n = await t.db.query(
        `SELECT count(*)::int AS n, bool_and(status = 'pending_payment') AS pending FROM purchases WHERE user_id = $1`,
        [buyer.id],
      );
      expect(n.rows[0]).toEqual({ n: 1, pending: true });
      const verified = await t.http.post('/api/api-keys/verify').set(service).send({ key: key.key }).expect(200);
      expect(verified.body).toEqual({ valid: false, reason: 'creator_not_admin' });
      const listed = await t.http.get('/api/api-keys?scope=usage:ingest&limit=500').set(service).expect(200);
      expect(listed.body.items.find((k: { id: string }) => k.id === key.id)).toMatchObject({
        creatorIsAdmin: false,
        isActive: true,
      });

      // Made an admin again, the key works again: it is the creator's role that decides, now.
      await t.http.get('/api/users/me').set(creator.auth).expect(200);
      await t.http.post(`/api/purchases/${first.body.id}/paid`).set(viaKey).send({}).expect(200);
      await expectInvariants(t, [buyer.id]);
    });
  });

  describe('finding: held credits at a refund or dispute', () => {
    it('a full provider refund takes the lot’s held credits too: nothing comes back spendable at settlement', async () => {
      const u = await f.newUser();
      const p = await paidPurchase(u);
      const s = await open(u, 800); // holds 960 of the lot's 1,000
      expect(s.held).toBe(960);
      const refunded = await providerEvent(p.id, { type: 'refunded', amountRefunded: '10.00' }).expect(200);
      expect(refunded.body).toMatchObject({ status: 'refunded', refundedCredits: 1000, debtCreated: 0 });
      expect(await balance(u)).toMatchObject({ totalCredits: 0, heldCredits: 0, debt: 0 });

      // The session used 500: settled against what is left of its hold (nothing), all of it for review.
      const settled = await finalize(u, s.sessionId, 500);
      expect(settled.status, JSON.stringify(settled.body)).toBe(200);
      expect(await recordOf(s.sessionId)).toEqual({
        credits: 0,
        shortfall: 500,
        billing_status: 'needs_review',
        review_status: 'open',
      });
      expect(await balance(u)).toMatchObject({ totalCredits: 0, heldCredits: 0, debt: 0 });
      expect((await f.recordUsage(u, 1)).status).toBe(402);
      expect(await refundable(u, p.id)).toEqual({ credits: 0, amount: '0.00' });
      await expectInvariants(t, [u.id]);
    });

    it('a partial refund takes free credits first, then only as many held ones as it asks for', async () => {
      const u = await f.newUser();
      const p = await paidPurchase(u);
      const s = await open(u, 500); // 600 held, 400 free
      // 5.00 of 10.00: 500 credits, 400 free and 100 of the hold.
      await providerEvent(p.id, { type: 'refunded', amountRefunded: '5.00' }).expect(200);
      expect(await balance(u)).toMatchObject({ totalCredits: 0, heldCredits: 500 });
      // Used 450 of the 500 left: 50 released to the lot, spendable (the purchase still has them).
      await finalize(u, s.sessionId, 450).expect(200);
      expect(await recordOf(s.sessionId)).toMatchObject({ credits: 450, shortfall: 0, billing_status: 'billed' });
      expect(await balance(u)).toMatchObject({ totalCredits: 50, heldCredits: 0, debt: 0 });
      expect(await refundable(u, p.id)).toEqual({ credits: 50, amount: '0.50' });
      await expectInvariants(t, [u.id]);
    });

    it('a second refund of a fully refunded purchase is 409 REFUND_EXCEEDS_REFUNDABLE, never a 500', async () => {
      const u = await f.newUser();
      const p = await paidPurchase(u);
      const s = await open(u, 800);
      await providerEvent(p.id, { type: 'refunded', amountRefunded: '10.00' }).expect(200);
      await finalize(u, s.sessionId, 0).expect(200);
      expect(await refundable(u, p.id)).toEqual({ credits: 0, amount: '0.00' });
      const admin = bearer(tokenFor('admin', 'sfp-refunder'));
      const again = await t.http.post(`/api/purchases/${p.id}/refunds`).set(admin).send({});
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ code: 'REFUND_EXCEEDS_REFUNDABLE', refundableCredits: 0 });
      const some = await t.http.post(`/api/purchases/${p.id}/refunds`).set(admin).send({ credits: 1 });
      expect(some.status).toBe(409);
      const view = await t.http.get(`/api/purchases/${p.id}`).set(service).expect(200);
      expect(view.body).toMatchObject({ status: 'refunded', refundedCredits: 1000 });
      await expectInvariants(t, [u.id]);
    });

    it('a dispute freezes held credits as they come back: nothing to transfer out; won gives them back', async () => {
      const u = await f.newUser();
      const p = await paidPurchase(u);
      const s = await open(u, 800); // 960 held, 40 free
      const opened = await providerEvent(p.id, { type: 'dispute_opened' }).expect(200);
      expect(opened.body).toMatchObject({ status: 'disputed', disputedCredits: 40 });
      await finalize(u, s.sessionId, 60).expect(200); // 900 come back to the lot: frozen
      expect(await balance(u)).toMatchObject({ totalCredits: 0, heldCredits: 0 });
      const out = await t.http
        .post('/api/credits/transfers')
        .set(supervisor)
        .send({ from: { userId: u.id }, to: { userId: (await f.newUser()).id }, credits: 900 });
      expect(out.status).toBe(402);
      expect((await f.recordUsage(u, 1)).status).toBe(402);
      expect(await refundable(u, p.id)).toEqual({ credits: 0, amount: '0.00' });
      const during = await t.http.get(`/api/purchases/${p.id}`).set(service).expect(200);
      expect(during.body).toMatchObject({ status: 'disputed', disputedCredits: 940 });
      const won = await providerEvent(p.id, { type: 'dispute_won' }).expect(200);
      expect(won.body).toMatchObject({ status: 'paid', disputedCredits: 0 });
      expect(await balance(u)).toMatchObject({ totalCredits: 940 });
      await expectInvariants(t, [u.id]);
    });

    it('a lost dispute takes the held credits back; what the session used of them is a shortfall for review', async () => {
      const u = await f.newUser({ credits: 100 }); // another grant, which the shortfall must not reach
      const p = await paidPurchase(u);
      // The manual grant expires sooner (30 days): it is held first. 100 of it, 380 of the lot.
      const s = await open(u, 400);
      expect(s.held).toBe(480);
      await providerEvent(p.id, { type: 'dispute_opened' }).expect(200);
      const lost = await providerEvent(p.id, { type: 'dispute_lost' }).expect(200);
      expect(lost.body).toMatchObject({ status: 'charged_back', refundedCredits: 1000, debtCreated: 0 });
      expect(await balance(u)).toMatchObject({ totalCredits: 0, heldCredits: 100, debt: 0 });
      await finalize(u, s.sessionId, 300).expect(200);
      // 100 kept from what is left of the hold, 200 of the lot's taken-back credits for review.
      expect(await recordOf(s.sessionId)).toEqual({
        credits: 100,
        shortfall: 200,
        billing_status: 'needs_review',
        review_status: 'open',
      });
      expect(await balance(u)).toMatchObject({ totalCredits: 0, heldCredits: 0, debt: 0 });
      await expectInvariants(t, [u.id]);
    });

    it('reconcile sees a refunded purchase whose lot still has credits', async () => {
      const u = await f.newUser();
      const p = await paidPurchase(u);
      await providerEvent(p.id, { type: 'refunded', amountRefunded: '10.00' }).expect(200);
      const admin = bearer(tokenFor('admin', 'sfp-reconciler'));
      const clean = await t.http.get('/api/credits/reconcile').set(admin).expect(200);
      expect(clean.body.mismatches.filter((m: { allocationId: string }) => m.allocationId === p.allocationId)).toEqual(
        [],
      );
      // The state the finding produced: credits back in a refunded purchase's lot (as a settlement's
      // release did), planted through the ledger's own writer so every other check still agrees.
      await t.db.query(
        `SELECT credit_ledger_write(ARRAY[a.account_id], ARRAY[a.id], ARRAY['unfreeze']::varchar[], ARRAY[958],
                                    ARRAY[958::bigint], ARRAY[NULL]::uuid[], NULL, NULL, 'test', NULL, ARRAY[0::bigint])
           FROM credit_allocations a WHERE a.id = $1`,
        [p.allocationId],
      );
      const seen = await t.http.get('/api/credits/reconcile').set(admin).expect(200);
      expect(seen.body.mismatches.filter((m: { allocationId: string }) => m.allocationId === p.allocationId)).toEqual([
        expect.objectContaining({ problem: 'purchase_mismatch', userId: u.id, expected: 0, actual: 958 }),
      ]);
      // Taken out again so the shared invariants hold for the rest of the file.
      await t.db.query(
        `SELECT credit_ledger_write(ARRAY[a.account_id], ARRAY[a.id], ARRAY['freeze']::varchar[], ARRAY[-958],
                                    ARRAY[0::bigint], ARRAY[NULL]::uuid[], NULL, NULL, 'test')
           FROM credit_allocations a WHERE a.id = $1`,
        [p.allocationId],
      );
    });

    it('in parallel: refunds, settlements and records of one account keep every purchase credit accounted for', async () => {
      const u = await f.newUser();
      const p = await paidPurchase(u, 2000, '20.00');
      const sessions = [];
      for (let i = 0; i < 10; i++) sessions.push(await open(u, 50)); // 10 × 60 held, 1,400 free
      // Half the sessions settle while the refunds run; the other half after them, whatever the order was.
      const results = await Promise.all([
        providerEvent(p.id, { type: 'refunded', amountRefunded: '7.00' }),
        ...sessions.slice(0, 5).map((s, i) => finalize(u, s.sessionId, 30 + i * 5)),
        providerEvent(p.id, { type: 'refunded', amountRefunded: '20.00' }),
        ...Array.from({ length: 10 }, () => f.recordUsage(u, 25)),
        providerEvent(p.id, { type: 'dispute_opened' }),
      ]);
      for (const r of results) expect([200, 201, 402], JSON.stringify(r.body)).toContain(r.status);
      for (const [i, s] of sessions.slice(5).entries()) await finalize(u, s.sessionId, 55 + i).expect(200);
      const view = (await t.http.get(`/api/purchases/${p.id}`).set(service).expect(200)).body;
      // The whole purchase is taken back: what was left or held as refund, what was spent as debt.
      expect(view.refundedCredits + view.debtCreated).toBe(2000);
      expect(await balance(u)).toMatchObject({ totalCredits: 0, heldCredits: 0 });
      expect(await refundable(u, p.id)).toEqual({ credits: 0, amount: '0.00' });
      const lot = await t.db.query(`SELECT remaining_credits FROM credit_allocations WHERE id = $1`, [p.allocationId]);
      expect(lot.rows[0].remaining_credits).toBe(0);
      await expectInvariants(t, [u.id]);
    });

    it('a provider event holding the purchase never stops the settlements of its lot', async () => {
      // Settlements that arrive together update the purchase's lot once each in one transaction; from
      // the second update on, PostgreSQL rechecks the lot's foreign key, a share lock on the purchase.
      // A provider event holds the purchase while it waits for the account: the purchase's lock must
      // not stop that recheck, or the two wait for each other.
      const u = await f.newUser();
      const p = await paidPurchase(u, 2000, '20.00');
      const sessions = [];
      for (let i = 0; i < 8; i++) sessions.push(await open(u, 50));
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let holding!: (pid: number) => void;
      const holder = new Promise<number>((resolve) => (holding = resolve));
      const held = t.app.get(Transactions).run(async (manager) => {
        await t.app.get(PurchasesRepository).lock(manager, p.id);
        holding((await manager.query('SELECT pg_backend_pid() AS pid'))[0].pid as number);
        await released;
      });
      try {
        const pid = await holder;
        let done = false;
        const settled = Promise.all(sessions.map((s, i) => finalize(u, s.sessionId, 30 + i))).finally(
          () => (done = true),
        );
        // Until every finalize has answered, no backend may wait for the purchase's holder.
        let blocked = 0;
        while (!done && blocked === 0) {
          const { rows } = await t.db.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))`,
            [pid],
          );
          blocked = rows[0].n;
        }
        expect(blocked, 'a settlement waits for the purchase a provider event holds').toBe(0);
        for (const r of await settled) expect(r.status, JSON.stringify(r.body)).toBe(200);
      } finally {
        release();
        await held;
      }
      await expectInvariants(t, [u.id]);
    });
  });

  describe('finding: ledger lines name the key that acted', () => {
    it('a service key’s grant, refund, dispute and chargeback lines carry its apiKeyId', async () => {
      const admin = principal('admin', 'sfp-keyed');
      await t.http.get('/api/users/me').set(admin.auth).expect(200);
      const key = await f.apiKey(admin, { name: 'billing', permissions: ['usage:ingest'] });
      const viaKey = { 'X-API-Key': key.key };
      const u = await f.newUser();
      const created = await t.http
        .post('/api/purchases')
        .set(viaKey)
        .send({ userId: u.id, credits: 1000, amount: '10.00', currency: 'usd', provider: 'stripe' })
        .expect(201);
      await t.http.post(`/api/purchases/${created.body.id}/paid`).set(viaKey).send({}).expect(200);
      await f.recordUsage(u, 100).expect(201);
      const event = (body: object) =>
        t.http.post(`/api/purchases/${created.body.id}/provider-events`).set(viaKey).send(body).expect(200);
      await event({ type: 'refunded', amountRefunded: '2.00' });
      await event({ type: 'dispute_opened' });
      await event({ type: 'dispute_lost' });
      const { rows } = await t.db.query(
        `SELECT kind, api_key_id FROM credit_ledger
          WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1) AND kind IN ('grant', 'refund', 'debt', 'freeze', 'unfreeze')
          ORDER BY id`,
        [u.id],
      );
      expect(rows.map((r) => r.kind)).toEqual(['grant', 'refund', 'freeze', 'unfreeze', 'refund', 'debt']);
      expect(rows.every((r) => r.api_key_id === key.id)).toBe(true);
      await expectInvariants(t, [u.id]);
    });
  });
});
