import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { currencyDrawer, twoPlaceCurrencies } from './support/currencies.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Packages (docs/selling.md): the price book, purchases by packageId (credits and bonus granted once,
 * in one allocation, when paid) and the floor under prices a purchase names itself. Each test sells
 * in a currency of its own: spec files share the database, and packages in `usd` would put a floor
 * under every other spec's purchases.
 */
describe('packages', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const admin = bearer(tokenFor('admin', 'packages-admin'));
  const service = admin;

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'pk' });
  });
  afterAll(() => t.close());

  /**
   * A currency no other spec uses and no other test of this one: ISO 4217 codes of 2 places from a
   * to m (test/console-selling.e2e-spec.ts draws from n to z), never one a spec names, never twice.
   * Every body's money names a currency ISO 4217 lists, and 2 places keep a price of 12.50 worth
   * 12.50.
   */
  const currency = currencyDrawer(twoPlaceCurrencies('a', 'm'));
  let n = 0;
  const createPackage = (body: Record<string, unknown>) =>
    t.http
      .post('/api/packages')
      .set(admin)
      .send({ packageId: `pk-${Date.now()}-${n++}`, name: 'Starter', credits: 1000, ...body });
  const purchase = (body: Record<string, unknown>) =>
    t.http
      .post('/api/purchases')
      .set(service)
      .send({ provider: 'stripe', ...body });

  it('creates, lists, renames and takes packages off sale; only admins change them', async () => {
    const cur = currency();
    const created = await createPackage({ bonusCredits: 100, price: { amount: '10.00', currency: cur } }).expect(201);
    expect(created.body).toEqual({
      packageId: expect.any(String),
      name: 'Starter',
      credits: 1000,
      bonusCredits: 100,
      price: { amount: '10.00', currency: cur },
      prices: [{ amount: '10.00', currency: cur }],
      expiryDays: 365,
      active: true,
      createdAt: expect.any(String),
    });
    const id = created.body.packageId as string;
    await createPackage({ packageId: id, price: { amount: '1.00', currency: cur } })
      .expect(409)
      .expect((r) => expect(r.body.code).toBe('PACKAGE_EXISTS'));

    const user = await f.newUser();
    await t.http.post('/api/packages').set(user.auth).send({}).expect(403);
    await t.http.patch(`/api/packages/${id}`).set(user.auth).send({ active: false }).expect(403);
    // Any authenticated caller reads the price book, by currency.
    const listed = await t.http.get(`/api/packages?currency=${cur}`).set(user.auth).expect(200);
    expect(listed.body).toEqual({ items: [created.body], nextCursor: null });
    await t.http.get('/api/packages?includeInactive=true').set(user.auth).expect(403);

    // Only name and active change: credits and price never do.
    await t.http.patch(`/api/packages/${id}`).set(admin).send({ credits: 5 }).expect(400);
    await t.http
      .patch(`/api/packages/${id}`)
      .set(admin)
      .send({ price: { amount: '1.00', currency: cur } })
      .expect(400);
    const renamed = await t.http.patch(`/api/packages/${id}`).set(admin).send({ name: 'Starter 2', active: false });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Starter 2', active: false, credits: 1000, bonusCredits: 100 });
    expect((await t.http.get(`/api/packages?currency=${cur}`).set(user.auth).expect(200)).body.items).toEqual([]);
    const all = await t.http.get(`/api/packages?currency=${cur}&includeInactive=true`).set(admin).expect(200);
    expect(all.body.items.map((p: { packageId: string }) => p.packageId)).toEqual([id]);
    await t.http
      .patch('/api/packages/no-such-package')
      .set(admin)
      .send({ active: true })
      .expect(404)
      .expect((r) => expect(r.body.code).toBe('PACKAGE_NOT_FOUND'));

    const audit = await t.db.query(
      `SELECT action, before IS NULL AS created FROM audit_log WHERE target_id = $1 ORDER BY at, id`,
      [id],
    );
    expect(audit.rows).toEqual([
      { action: 'package.create', created: true },
      { action: 'package.update', created: false },
    ]);
  });

  it('refuses bad packages with a 400 and writes nothing', async () => {
    const cur = currency();
    for (const body of [
      { packageId: 'AB', price: { amount: '1.00', currency: cur } },
      { packageId: 'Upper-Case', price: { amount: '1.00', currency: cur } },
      { price: { amount: '0.00', currency: cur } },
      { price: { amount: '1.001', currency: cur } },
      { price: { amount: '1.00', currency: 'USD' } },
      { price: { amount: '1.00' } },
      {},
      { credits: 0, price: { amount: '1.00', currency: cur } },
      { bonusCredits: -1, price: { amount: '1.00', currency: cur } },
      { credits: 2_147_483_647, bonusCredits: 1, price: { amount: '1.00', currency: cur } },
      { expiryDays: 0, price: { amount: '1.00', currency: cur } },
      { price: { amount: '1.00', currency: cur }, extra: 1 },
    ]) {
      const res = await createPackage(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM packages WHERE currency = $1`, [cur]);
    expect(rows[0].n).toBe(0);
  });

  it('sells a package: its credits, price and expiry; credits + bonus granted once, in one allocation', async () => {
    const cur = currency();
    const pkg = (
      await createPackage({
        credits: 1000,
        bonusCredits: 250,
        expiryDays: 90,
        price: { amount: '12.50', currency: cur },
      })
    ).body as { packageId: string };
    const u = await f.newUser();
    const created = await purchase({ userId: u.id, packageId: pkg.packageId }).expect(201);
    expect(created.body).toMatchObject({
      credits: 1000,
      bonusCredits: 250,
      packageId: pkg.packageId,
      amount: '12.50',
      currency: cur,
      status: 'pending_payment',
      allocationId: null,
    });
    // Ten payments reported at once: one allocation of 1,250 credits, expiring 90 days on.
    const paid = await Promise.all(
      Array.from({ length: 10 }, () => t.http.post(`/api/purchases/${created.body.id}/paid`).set(service).send({})),
    );
    expect(paid.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(new Set(paid.map((r) => r.body.allocationId)).size).toBe(1);
    const { rows } = await t.db.query(
      `SELECT total_credits, source, round(extract(epoch FROM expires_at - allocated_at) / 86400)::int AS days
         FROM credit_allocations WHERE purchase_id = $1`,
      [created.body.id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toEqual({ total_credits: 1250, source: 'purchase', days: 90 });
    const balance = await t.http.get('/api/credits/balance').set(u.auth).expect(200);
    expect(balance.body.totalCredits).toBe(1250);
    const paidEvents = await t.db.query(
      `SELECT data->'credits' AS credits, data->'bonusCredits' AS bonus FROM events
        WHERE type = 'purchase.paid' AND data->>'purchaseId' = $1`,
      [created.body.id],
    );
    expect(paidEvents.rows).toEqual([{ credits: 1000, bonus: 250 }]);
    // All of it is refundable, for all of the price: the bonus is part of what was paid for.
    const refundable = await t.http.get(`/api/purchases/${created.body.id}/refundable`).set(u.auth).expect(200);
    expect(refundable.body).toEqual({ credits: 1250, amount: '12.50' });
    const half = await t.http.post(`/api/purchases/${created.body.id}/refunds`).set(admin).send({ credits: 625 });
    expect(half.status).toBe(201);
    expect(half.body).toMatchObject({ credits: 625, amount: '6.25' });
    await expectInvariants(t, [u.id]);
  });

  it('refuses both forms, neither, and a package that is unknown or off sale; writes nothing', async () => {
    const cur = currency();
    const pkg = (await createPackage({ price: { amount: '5.00', currency: cur } })).body as { packageId: string };
    const u = await f.newUser();
    const both = await purchase({ userId: u.id, packageId: pkg.packageId, credits: 10, amount: '1.00', currency: cur });
    expect(both.status).toBe(400);
    expect(JSON.stringify(both.body.message)).toContain('packageId');
    // A package's price is its own: an amount beside it is refused (a currency beside it picks one of its prices).
    await purchase({ userId: u.id, packageId: pkg.packageId, amount: '5.00' }).expect(400);
    await purchase({ userId: u.id, packageId: pkg.packageId, expiryDays: 10 }).expect(400);
    await purchase({ userId: u.id }).expect(400);
    await purchase({ userId: u.id, packageId: 'no-such-package' })
      .expect(404)
      .expect((r) => expect(r.body.code).toBe('PACKAGE_NOT_FOUND'));
    await t.http.patch(`/api/packages/${pkg.packageId}`).set(admin).send({ active: false }).expect(200);
    const off = await purchase({ userId: u.id, packageId: pkg.packageId }).expect(404);
    expect(off.body.code).toBe('PACKAGE_NOT_FOUND');
    // Only a service principal buys, a package as much as anything else.
    await t.http
      .post('/api/purchases')
      .set(u.auth)
      .send({ userId: u.id, packageId: 'no-such-package', provider: 's' })
      .expect(403);
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM purchases WHERE user_id = $1`, [u.id]);
    expect(rows[0].n).toBe(0);
  });

  it('puts a floor under prices a purchase names: the lowest price per credit on sale, exactly', async () => {
    const cur = currency();
    const u = await f.newUser();
    // Before any package: any price.
    await purchase({ userId: u.id, credits: 1_000_000, amount: '0.01', currency: cur }).expect(201);
    // 10.00 for 1,100 credits and 30.00 for 3,000 (0.0090909… and 0.01 per credit): the floor is 10/1100.
    await createPackage({ credits: 1000, bonusCredits: 100, price: { amount: '10.00', currency: cur } }).expect(201);
    await createPackage({ credits: 3000, price: { amount: '30.00', currency: cur } }).expect(201);
    await purchase({ userId: u.id, credits: 1100, amount: '10.00', currency: cur }).expect(201);
    await purchase({ userId: u.id, credits: 110, amount: '1.00', currency: cur }).expect(201);
    // 1,101 credits for 10.00 is below it by a hair that floating point would round away.
    const below = await purchase({ userId: u.id, credits: 1101, amount: '10.00', currency: cur }).expect(422);
    expect(below.body).toMatchObject({ statusCode: 422, code: 'PRICE_BELOW_PACKAGES' });
    // At the largest purchase: 2,147,483,647 × 10 / 1,100 = 19,522,578.609…, so .60 is below and .61 is not.
    await purchase({ userId: u.id, credits: 2_147_483_647, amount: '19522578.60', currency: cur }).expect(422);
    await purchase({ userId: u.id, credits: 2_147_483_647, amount: '19522578.61', currency: cur }).expect(201);
    // Another currency has no floor; a package taken off sale is no floor.
    await purchase({ userId: u.id, credits: 1_000_000, amount: '0.01', currency: currency() }).expect(201);
    const off = currency();
    const cheap = await createPackage({ credits: 10, price: { amount: '100.00', currency: off } }).expect(201);
    await purchase({ userId: u.id, credits: 10, amount: '99.99', currency: off }).expect(422);
    await t.http.patch(`/api/packages/${cheap.body.packageId}`).set(admin).send({ active: false }).expect(200);
    await purchase({ userId: u.id, credits: 10, amount: '0.01', currency: off }).expect(201);
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM purchases WHERE user_id = $1`, [u.id]);
    expect(rows[0].n).toBe(6);
  });

  it('is for organisations too', async () => {
    const cur = currency();
    const pkg = (await createPackage({ credits: 200, bonusCredits: 20, price: { amount: '2.00', currency: cur } }))
      .body as { packageId: string };
    const org = uniqueId('pkorg').toLowerCase();
    const owner = await f.newUser();
    await t.http.post('/api/orgs').set(admin).send({ orgId: org, name: 'Pk', ownerUserId: owner.id }).expect(201);
    const created = await purchase({ orgId: org, packageId: pkg.packageId }).expect(201);
    await t.http.post(`/api/purchases/${created.body.id}/paid`).set(service).send({}).expect(200);
    const balance = await t.http.get(`/api/orgs/${org}`).set(owner.auth).expect(200);
    expect(balance.body.totalCredits).toBe(220);
  });
});
