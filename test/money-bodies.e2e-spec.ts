import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const admin = bearer(tokenFor('admin', 'money-bodies-admin'));

/**
 * Money in every body is one rule (docs/finance.md "Money in a body"): an ISO 4217 code and at most
 * that currency's minor places, nothing rounded, no other field inside a money object. The same
 * refusals from an allocation's value, a plan's price, a package's price and a purchase's amount.
 */
describe('W5: money in every body is one rule (ISO 4217, at most the currency’s minor places)', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'mb' });
  });
  afterAll(() => t?.close());

  const planBody = () => ({ id: uniqueId('mb').toLowerCase(), name: 'Bad money', credits: 100, period: 'month' });

  /** Money no body may carry: not ISO 4217, more places than the currency has, nothing, extra fields. */
  const BAD = [
    { amount: '1.00', currency: 'abc' },
    { amount: '0.01', currency: 'xxx' },
    { amount: '0.50', currency: 'jpy' },
    { amount: '1.001', currency: 'usd' },
    { amount: '1.0005', currency: 'kwd' },
    { amount: '1.00', currency: 'USD' },
    { amount: '0', currency: 'usd' },
    { amount: '1.00', currency: 'usd', note: 'extra' },
  ];

  it('POST /api/credits/allocate: a bad value → 400, nothing allocated; an unknown field inside it too', async () => {
    const u = await f.newUser();
    for (const value of BAD) {
      const res = await t.http.post('/api/credits/allocate').set(admin).send({ userId: u.id, credits: 10, value });
      expect(res.status, JSON.stringify(value)).toBe(400);
    }
    const extra = await t.http
      .post('/api/credits/allocate')
      .set(admin)
      .send({ userId: u.id, credits: 10, value: { amount: '1.00', currency: 'usd', rate: 2 } })
      .expect(400);
    expect(JSON.stringify(extra.body.message)).toContain('rate should not exist');
    expect(await f.available(u.id)).toBe(0);
    await t.http
      .post('/api/credits/allocate')
      .set(admin)
      .send({ userId: u.id, credits: 10, value: { amount: '500', currency: 'jpy' } })
      .expect(201);
    expect(await f.available(u.id)).toBe(10);
    await expectInvariants(t, users);
  });

  it('POST /api/packages and /api/plans: a bad price → 400, nothing written', async () => {
    for (const price of BAD) {
      const packageId = uniqueId('mb').toLowerCase();
      const pkg = await t.http.post('/api/packages').set(admin).send({ packageId, name: 'Bad', credits: 100, price });
      expect(pkg.status, JSON.stringify(price)).toBe(400);
      const plan = await t.http
        .post('/api/plans')
        .set(admin)
        .send({ ...planBody(), price });
      expect(plan.status, JSON.stringify(price)).toBe(400);
    }
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM packages WHERE name = 'Bad'`);
    expect(rows[0].n).toBe(0);
    // a package's price, as a purchase's amount, has its currency's places: 3 in kwd (taken off sale
    // at once: spec files share the database, and a package puts a floor under its currency's purchases)
    const price = { amount: '1.005', currency: 'kwd' };
    const kwd = { packageId: uniqueId('mb').toLowerCase(), name: 'Kwd', credits: 2_000_000_000, price };
    const made = await t.http.post('/api/packages').set(admin).send(kwd).expect(201);
    await t.http.patch(`/api/packages/${kwd.packageId}`).set(admin).send({ active: false }).expect(200);
    expect(made.body).toMatchObject({ price, prices: [price] });
    const plans = await t.db.query(`SELECT count(*)::int AS n FROM plans WHERE name = 'Bad money'`);
    expect(plans.rows[0].n).toBe(0);
    // the same plan with good money is one
    await t.http
      .post('/api/plans')
      .set(admin)
      .send({ ...planBody(), price: { amount: '4900', currency: 'jpy' } })
      .expect(201);
  });

  it('POST /api/purchases: a bad amount or currency → 400, nothing written; 500 jpy, 1.005 kwd are purchases', async () => {
    const u = await f.newUser();
    for (const money of BAD.filter((m) => !('note' in m))) {
      const res = await t.http
        .post('/api/purchases')
        .set(admin)
        .send({ userId: u.id, credits: 100, provider: 'stripe', ...money });
      expect(res.status, JSON.stringify(money)).toBe(400);
    }
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM purchases WHERE user_id = $1`, [u.id]);
    expect(rows[0].n).toBe(0);
    const ok = await t.http
      .post('/api/purchases')
      .set(admin)
      .send({ userId: u.id, credits: 100, provider: 'stripe', amount: '500', currency: 'jpy' })
      .expect(201);
    expect(ok.body).toMatchObject({ amount: '500', currency: 'jpy', status: 'pending_payment' });
    const fils = await t.http
      .post('/api/purchases')
      .set(admin)
      .send({ userId: u.id, credits: 100, provider: 'stripe', amount: '1.005', currency: 'kwd' });
    expect(fils.body).toMatchObject({ amount: '1.005', currency: 'kwd', status: 'pending_payment' });
  });
});
