import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Plans priced in several currencies (docs/plans.md, docs/selling.md "Prices in several currencies"),
 * over HTTP: prices in usd, jpy and kwd (2, 0 and 3 minor places), the allowance valued at the price
 * in the subscriber's billing currency (its first priced subscription sets it), and subscriptions and
 * plan changes in another currency refused with 409 CURRENCY_MISMATCH, nothing written.
 */
describe('prices in several currencies: plans and subscriptions', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const admin = bearer(tokenFor('admin', 'mcp-admin'));
  const supervisor = bearer(tokenFor('supervisor', 'mcp-supervisor'));

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'mcp' });
  });
  afterAll(async () => {
    await expectInvariants(t, users);
    await t.close();
  });

  const PRICES = [
    { amount: '49.00', currency: 'usd' },
    { amount: '7500', currency: 'jpy' },
    { amount: '15.125', currency: 'kwd' },
  ];
  const newPlan = async (body: Record<string, unknown>, status = 201) => {
    const id = uniqueId('mcp')
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-');
    const r = await t.http
      .post('/api/plans')
      .set(admin)
      .send({ id, name: 'Multi', credits: 1000, period: 'month', ...body });
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    return { id, body: r.body };
  };
  const subscribe = (userId: string, planId: string, extra: Record<string, unknown> = {}) =>
    t.http
      .put(`/api/users/${userId}/subscription`)
      .set(supervisor)
      .send({ planId, ...extra });
  const setCurrency = (userId: string, currency: string) =>
    t.http.put('/api/accounts/billing-currency').set(admin).send({ userId, currency });
  const billing = async (userId: string) =>
    (await t.http.get(`/api/users/${userId}`).set(admin).expect(200)).body.billingCurrency;
  const lots = async (userId: string) =>
    (await t.http.get(`/api/credits/allocations?userId=${userId}`).set(admin).expect(200)).body.items as {
      source: string;
      planId: string | null;
      value: { amount: string; currency: string } | null;
    }[];

  it('a plan takes prices in several currencies, each at most its minor places', async () => {
    const plan = await newPlan({ prices: PRICES });
    expect(plan.body).toMatchObject({ price: PRICES[0], prices: PRICES });
    const one = await newPlan({ price: PRICES[2] });
    expect(one.body).toMatchObject({ price: PRICES[2], prices: [PRICES[2]] });
    const none = await newPlan({});
    expect(none.body).toMatchObject({ price: null, prices: [] });

    for (const prices of [
      [{ amount: '7500.5', currency: 'jpy' }],
      [{ amount: '15.1255', currency: 'kwd' }],
      [{ amount: '49.001', currency: 'usd' }],
      [PRICES[0], { amount: '50.00', currency: 'usd' }],
      Array.from({ length: 21 }, () => PRICES[0]),
    ]) {
      const bad = await newPlan({ prices }, 400);
      await t.http.patch(`/api/plans/${bad.id}`).set(admin).send({ name: 'x' }).expect(404);
    }
    await newPlan({ price: PRICES[0], prices: PRICES }, 400);

    // PATCH replaces every price; `price: null` or `prices: []` removes them.
    const patched = await t.http
      .patch(`/api/plans/${plan.id}`)
      .set(admin)
      .send({ prices: [PRICES[1]] })
      .expect(200);
    expect(patched.body).toMatchObject({ price: PRICES[1], prices: [PRICES[1]] });
    const cleared = await t.http.patch(`/api/plans/${plan.id}`).set(admin).send({ price: null }).expect(200);
    expect(cleared.body).toMatchObject({ price: null, prices: [] });
  });

  it('the first priced subscription sets the billing currency; allowances are valued in it', async () => {
    const plan = await newPlan({ prices: PRICES });
    // None set: the plan's first price, which sets it.
    const first = await f.newUser();
    await subscribe(first.id, plan.id).expect(200);
    expect(await billing(first.id)).toBe('usd');
    expect((await lots(first.id)).map((l) => l.value)).toEqual([PRICES[0]]);
    // Set before: its price in that currency (0 and 3 places exact).
    for (const price of PRICES.slice(1)) {
      const u = await f.newUser();
      await setCurrency(u.id, price.currency).expect(200);
      await subscribe(u.id, plan.id).expect(200);
      expect((await lots(u.id)).map((l) => l.value)).toEqual([price]);
      expect(await billing(u.id)).toBe(price.currency);
    }
    // An unpriced plan sets nothing.
    const free = await newPlan({});
    const u = await f.newUser();
    await subscribe(u.id, free.id).expect(200);
    expect(await billing(u.id)).toBeNull();
    expect((await lots(u.id)).map((l) => l.value)).toEqual([null]);
  });

  it('a subscription or plan change in another currency is a 409 that writes nothing', async () => {
    const both = await newPlan({ prices: PRICES.slice(0, 2) });
    const dollarsOnly = await newPlan({ prices: [PRICES[0]], credits: 3000 });
    const yenBig = await newPlan({ prices: [{ amount: '20000', currency: 'jpy' }], credits: 3000 });

    // A kwd account and a plan without kwd: refused, also in preview.
    const kw = await f.newUser();
    await setCurrency(kw.id, 'kwd').expect(200);
    const refused = await subscribe(kw.id, both.id).expect(409);
    expect(refused.body.code).toBe('CURRENCY_MISMATCH');
    await t.http.get(`/api/users/${kw.id}/subscription`).set(supervisor).expect(404);
    expect(await lots(kw.id)).toEqual([]);
    await t.http.post(`/api/users/${kw.id}/subscription/preview`).set(supervisor).send({ planId: both.id }).expect(409);

    // A jpy subscriber: a change to a dollars-only plan is refused now and for the period's end.
    const u = await f.newUser();
    await setCurrency(u.id, 'jpy').expect(200);
    const before = (await subscribe(u.id, both.id).expect(200)).body;
    for (const timing of ['now', 'period_end']) {
      const r = await subscribe(u.id, dollarsOnly.id, { timing }).expect(409);
      expect(r.body.code).toBe('CURRENCY_MISMATCH');
      expect((await t.http.get(`/api/users/${u.id}/subscription`).set(supervisor).expect(200)).body).toEqual(before);
    }
    expect((await lots(u.id)).map((l) => l.value)).toEqual([PRICES[1]]);
    // An upgrade in its currency: the difference granted now, valued at its share of the jpy price.
    await subscribe(u.id, yenBig.id).expect(200);
    const granted = await lots(u.id);
    expect(granted.map((l) => [l.planId, l.value])).toEqual(
      expect.arrayContaining([
        [both.id, PRICES[1]],
        [yenBig.id, { amount: '13333', currency: 'jpy' }],
      ]),
    );
    expect(await billing(u.id)).toBe('jpy');

    // The admin may not move the account to a currency its plan has no price in.
    const moved = await setCurrency(u.id, 'usd').expect(409);
    expect(moved.body.code).toBe('CURRENCY_MISMATCH');
    expect(await billing(u.id)).toBe('jpy');
    await setCurrency(u.id, 'jpy').expect(200);
  });
});
