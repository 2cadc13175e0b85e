import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Prices in several currencies (docs/selling.md "Prices in several currencies"), over HTTP: packages
 * priced in usd, jpy and kwd (2, 0 and 3 minor places), purchases in the account's billing currency,
 * the 409 CURRENCY_MISMATCH that writes nothing, two first purchases in two currencies paid at once,
 * and the admin's PUT with its audit. Spec files share the database and packages put a floor under
 * their currency's purchases: every package here sells 2,000,000,000 credits for a few minor units
 * (a floor no other spec's purchase goes below), and is taken off sale at the end.
 */
describe('prices in several currencies: packages and purchases', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const packages: string[] = [];
  const admin = bearer(tokenFor('admin', 'mc-admin'));

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'mc' });
  });
  afterAll(async () => {
    for (const id of packages) await t.http.patch(`/api/packages/${id}`).set(admin).send({ active: false });
    await expectInvariants(t, users);
    await t.close();
  });

  const PRICES = [
    { amount: '0.25', currency: 'usd' },
    { amount: '30', currency: 'jpy' },
    { amount: '0.07', currency: 'kwd' },
  ];
  /** The same prices as views show money: in each currency's minor places. */
  const SHOWN = [PRICES[0], PRICES[1], { amount: '0.070', currency: 'kwd' }];
  /** A purchase's amount as its view shows it: in the currency's minor places. */
  const paying = (price: { amount: string; currency: string }) => ({ amount: price.amount, currency: price.currency });
  /** A package made by the admin, expecting `status`; its id and the answer's body. */
  const createPackage = async (body: Record<string, unknown>, status: number, prefix = 'mc') => {
    const packageId = uniqueId(prefix).toLowerCase().slice(0, 50);
    const r = await t.http
      .post('/api/packages')
      .set(admin)
      .send({ packageId, name: 'Multi', credits: 2_000_000_000, ...body });
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    if (r.status === 201) packages.push(packageId);
    return { packageId, body: r.body };
  };
  const purchase = (body: Record<string, unknown>) =>
    t.http
      .post('/api/purchases')
      .set(admin)
      .send({ provider: 'manual', ...body });
  /** Every package the caller lists, page by page (7 a page). */
  const listAll = async (auth: Record<string, string>, query: Record<string, string> = {}) => {
    const listed: { packageId: string; prices: { currency: string }[] }[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: typeof listed; nextCursor: string | null } } = await t.http
        .get('/api/packages')
        .query({ limit: '7', ...query, ...(cursor ? { cursor } : {}) })
        .set(auth)
        .expect(200);
      listed.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    return listed;
  };
  const pay = (id: string) => t.http.post(`/api/purchases/${id}/paid`).set(admin).send({});
  const balance = async (u: { auth: Record<string, string> }) =>
    (await t.http.get('/api/credits/balance').set(u.auth).expect(200)).body;
  const purchasesOf = async (userId: string) =>
    (await t.http.get(`/api/purchases?userId=${userId}`).set(admin).expect(200)).body.items as {
      amount: string;
      currency: string;
    }[];

  /** An account's roll-forward totals in `currency` (groupBy=account, page by page). */
  const accountRollForward = async (userId: string, currency: string, from: string, to: string) => {
    let cursor: string | undefined;
    for (;;) {
      const r = await t.http
        .get('/api/finance/rollforward')
        .query({ currency, from, to, groupBy: 'account', limit: 1000, ...(cursor ? { cursor } : {}) })
        .set(admin);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const mine = r.body.accounts.find((a: { userId: string }) => a.userId === userId);
      if (mine) return mine.totals as Record<string, string>;
      cursor = r.body.nextCursor ?? undefined;
      if (!cursor) return undefined;
    }
  };

  it('a package takes prices in several currencies, each at most its minor places; bad lists are 400s', async () => {
    const made = await createPackage({ prices: PRICES }, 201);
    expect(made.body).toMatchObject({ price: SHOWN[0], prices: SHOWN });
    const one = await createPackage({ price: { amount: '0.25', currency: 'usd' } }, 201);
    expect(one.body).toMatchObject({ price: PRICES[0], prices: [PRICES[0]] });

    const bad: unknown[] = [
      [{ amount: '30.5', currency: 'jpy' }],
      [{ amount: '0.255', currency: 'usd' }],
      [{ amount: '0', currency: 'usd' }],
      [{ amount: '1.00', currency: 'xxx' }],
      [PRICES[0], { amount: '0.30', currency: 'usd' }],
      [{ amount: '1.00', currency: 'usd', note: 'x' }],
      [],
      Array.from({ length: 21 }, (_, i) => ({ amount: '1', currency: ['jpy', 'usd', 'eur'][i % 3] })),
    ];
    for (const prices of bad) {
      const r = await createPackage({ prices }, 400);
      expect((await listAll(admin, { includeInactive: 'true' })).map((p) => p.packageId)).not.toContain(r.packageId);
    }
    await createPackage({ price: PRICES[0], prices: PRICES }, 400);
    await createPackage({}, 400);
    // Twenty prices, one per currency, are fine. Codes of 2 places are drawn by the specs that list
    // packages by currency (test/support/currencies.ts): these are the named ones and those of 0 or 3.
    const named = ['usd', 'eur', 'gbp', 'jpy', 'kwd'];
    const zero = ['krw', 'clp', 'isk', 'vnd', 'ugx', 'xof', 'xaf', 'pyg', 'rwf', 'bif'];
    const many = [...named, ...zero, 'bhd', 'omr', 'jod', 'tnd', 'lyd'];
    await createPackage({ prices: many.map((currency) => ({ amount: '1', currency })) }, 201);
  });

  it('a purchase pays the price in its account’s currency; another currency is a 409 that writes nothing', async () => {
    const pkg = (await createPackage({ prices: PRICES }, 201)).packageId;
    const u = await f.newUser();
    expect((await balance(u)).billingCurrency).toBeNull();

    // No billing currency yet and none named: the package's first price. Paying sets the currency.
    const first = await purchase({ userId: u.id, packageId: pkg }).expect(201);
    expect(first.body).toMatchObject({ ...paying(PRICES[0]), credits: 2_000_000_000 });
    expect((await balance(u)).billingCurrency).toBeNull();
    await pay(first.body.id).expect(200);
    expect((await balance(u)).billingCurrency).toBe('usd');
    const overview = await t.http.get(`/api/users/${u.id}`).set(admin).expect(200);
    expect(overview.body.billingCurrency).toBe('usd');

    // Without a currency: the account's. Naming it: the same.
    await purchase({ userId: u.id, packageId: pkg })
      .expect(201)
      .expect((r) => expect(r.body.currency).toBe('usd'));
    await purchase({ userId: u.id, packageId: pkg, currency: 'usd' }).expect(201);
    const before = await purchasesOf(u.id);
    for (const body of [
      { packageId: pkg, currency: 'jpy' },
      { packageId: pkg, currency: 'kwd' },
      { credits: 100, amount: '500', currency: 'jpy' },
      { credits: 100, amount: '1.25', currency: 'kwd' },
    ]) {
      const r = await purchase({ userId: u.id, ...body }).expect(409);
      expect(r.body.code).toBe('CURRENCY_MISMATCH');
    }
    expect(await purchasesOf(u.id)).toEqual(before);
    // A package without a price in the account's currency cannot be bought by it.
    const yenOnly = (await createPackage({ prices: [PRICES[1]] }, 201)).packageId;
    await purchase({ userId: u.id, packageId: yenOnly })
      .expect(409)
      .expect((r) => expect(r.body.code).toBe('CURRENCY_MISMATCH'));
    expect(await purchasesOf(u.id)).toEqual(before);
  });

  it('naming a currency picks that price: jpy and kwd lots are valued at what was paid', async () => {
    const pkg = (await createPackage({ prices: PRICES }, 201)).packageId;
    for (const price of SHOWN.slice(1)) {
      const u = await f.newUser();
      const p = await purchase({ userId: u.id, packageId: pkg, currency: price.currency }).expect(201);
      expect(p.body).toMatchObject(paying(price));
      const paid = await pay(p.body.id).expect(200);
      expect((await balance(u)).billingCurrency).toBe(price.currency);
      const lots = await t.http.get(`/api/credits/allocations?userId=${u.id}`).set(admin).expect(200);
      const lot = lots.body.items.find((a: { id: string }) => a.id === paid.body.allocationId);
      expect(lot.value).toEqual(price);
      // Refunded in the currency paid.
      await t.http.post(`/api/purchases/${p.body.id}/refunds`).set(admin).send({}).expect(201);
      const refunded = await t.http.get(`/api/purchases/${p.body.id}`).set(admin).expect(200);
      expect(refunded.body).toMatchObject({ ...paying(price), status: 'refunded' });
      expect(refunded.body.refundedAmount).toBe(price.amount);
    }
    // A currency the package has no price in.
    const u = await f.newUser();
    await purchase({ userId: u.id, packageId: pkg, currency: 'eur' })
      .expect(409)
      .expect((r) => expect(r.body.code).toBe('CURRENCY_MISMATCH'));
    expect(await purchasesOf(u.id)).toEqual([]);
  });

  it('a kwd price of 3 places is listed, bought and refunded to the fils; more places than a currency has are 400s', async () => {
    const prices = [
      { amount: '1.005', currency: 'kwd' },
      { amount: '30', currency: 'jpy' },
    ];
    const { packageId, body } = await createPackage({ prices }, 201);
    expect(body).toMatchObject({ price: prices[0], prices });
    const listed = (await listAll(admin, { currency: 'kwd' })).find((p) => p.packageId === packageId);
    expect(listed).toMatchObject({ price: prices[0], prices });
    const u = await f.newUser();
    for (const price of [
      { amount: '1.0005', currency: 'kwd' },
      { amount: '0.5', currency: 'jpy' },
    ]) {
      await createPackage({ price }, 400);
      const r = await purchase({ userId: u.id, credits: 100, ...price }).expect(400);
      expect(JSON.stringify(r.body.message)).toContain('decimal places');
    }
    expect(await purchasesOf(u.id)).toEqual([]);

    // 2,000,000,000 credits for 1.005 kwd: half of them take floor(1005 / 2) = 502 fils back, the rest 503.
    const p = await purchase({ userId: u.id, packageId, currency: 'kwd' }).expect(201);
    expect(p.body).toMatchObject({ amount: '1.005', currency: 'kwd', refundedAmount: '0.000' });
    const paid = await pay(p.body.id).expect(200);
    expect(paid.body).toMatchObject({ amount: '1.005', status: 'paid' });
    const lots = await t.http.get(`/api/credits/allocations?userId=${u.id}`).set(admin).expect(200);
    expect(lots.body.items.find((a: { id: string }) => a.id === paid.body.allocationId)).toMatchObject({
      value: prices[0],
      valueRemaining: '1.005',
    });
    const refundable = () => t.http.get(`/api/purchases/${p.body.id}/refundable`).set(admin).expect(200);
    expect((await refundable()).body).toEqual({ credits: 2_000_000_000, amount: '1.005' });
    const refunds = `/api/purchases/${p.body.id}/refunds`;
    const half = await t.http.post(refunds).set(admin).send({ credits: 1_000_000_000 }).expect(201);
    expect(half.body).toMatchObject({ credits: 1_000_000_000, amount: '0.502' });
    const partly = await t.http.get(`/api/purchases/${p.body.id}`).set(admin).expect(200);
    expect(partly.body).toMatchObject({ amount: '1.005', refundedAmount: '0.502', status: 'partially_refunded' });
    expect((await refundable()).body).toEqual({ credits: 1_000_000_000, amount: '0.503' });
    // A provider's cumulative refund is held to the purchase currency's places too.
    const events = `/api/purchases/${p.body.id}/provider-events`;
    await t.http.post(events).set(admin).send({ type: 'refunded', amountRefunded: '0.5025' }).expect(400);
    const rest = await t.http.post(refunds).set(admin).send({}).expect(201);
    expect(rest.body).toMatchObject({ credits: 1_000_000_000, amount: '0.503' });
    const refunded = await t.http.get(`/api/purchases/${p.body.id}`).set(admin).expect(200);
    expect(refunded.body).toMatchObject({ amount: '1.005', refundedAmount: '1.005', status: 'refunded' });

    // The account's kwd roll-forward: in 1.005, out 0.502 + 0.503, nothing left.
    const day = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10);
    const totals = await accountRollForward(u.id, 'kwd', day(-1), day(1));
    expect(totals).toMatchObject({ opening: '0.000', purchased: '1.005', refunded: '1.005', closing: '0.000' });
  });

  it('two first purchases in two currencies paid at once: exactly one wins', async () => {
    const pkg = (await createPackage({ prices: PRICES }, 201)).packageId;
    for (let round = 0; round < 4; round++) {
      const u = await f.newUser();
      const usd = await purchase({ userId: u.id, packageId: pkg, currency: 'usd' }).expect(201);
      const jpy = await purchase({ userId: u.id, packageId: pkg, currency: 'jpy' }).expect(201);
      const answers = await Promise.all([pay(usd.body.id), pay(jpy.body.id)]);
      const won = answers.filter((r) => r.status === 200);
      const lost = answers.filter((r) => r.status === 409);
      expect(won, JSON.stringify(answers.map((r) => r.body))).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0].body.code).toBe('CURRENCY_MISMATCH');
      expect((await balance(u)).billingCurrency).toBe(won[0].body.currency);
      expect((await balance(u)).activeAllocations).toHaveLength(1);
      const loser = await t.http.get(`/api/purchases/${lost[0] === answers[0] ? usd.body.id : jpy.body.id}`).set(admin);
      expect(loser.body.status).toBe('pending_payment');
    }
  });

  it('an admin sets an account’s billing currency, audited; payments follow it', async () => {
    const pkg = (await createPackage({ prices: PRICES }, 201)).packageId;
    const u = await f.newUser();
    const put = (body: Record<string, unknown>, who = admin) =>
      t.http.put('/api/accounts/billing-currency').set(who).send(body);
    await put({ userId: u.id, currency: 'kwd' }).expect(200, { userId: u.id, billingCurrency: 'kwd' });
    expect((await balance(u)).billingCurrency).toBe('kwd');
    await purchase({ userId: u.id, packageId: pkg })
      .expect(201)
      .expect((r) => expect(r.body).toMatchObject(paying(SHOWN[2])));
    await purchase({ userId: u.id, packageId: pkg, currency: 'usd' }).expect(409);

    await put({ userId: u.id, currency: 'jpy' }).expect(200);
    const audit = await t.http
      .get('/api/audit')
      .query({ action: 'account.billing_currency', targetId: u.id })
      .set(admin)
      .expect(200);
    expect(audit.body.items.map((e: { before: unknown; after: unknown }) => [e.before, e.after])).toEqual([
      [
        { userId: u.id, billingCurrency: 'kwd' },
        { userId: u.id, billingCurrency: 'jpy' },
      ],
      [
        { userId: u.id, billingCurrency: null },
        { userId: u.id, billingCurrency: 'kwd' },
      ],
    ]);
    // Bad input and unknown accounts change nothing; only admins may.
    await put({ userId: u.id, currency: 'xxx' }).expect(400);
    await put({ userId: u.id }).expect(400);
    await put({ currency: 'usd' }).expect(400);
    await put({ userId: uniqueId('nobody'), currency: 'usd' }).expect(404);
    await put({ userId: u.id, currency: 'usd' }, bearer(tokenFor('supervisor'))).expect(403);
    await put({ userId: u.id, currency: 'usd' }, u.auth).expect(403);
    expect((await balance(u)).billingCurrency).toBe('jpy');

    // An organisation's account, shown on its views.
    const owner = await f.newUser();
    const orgId = uniqueId('mcorg').toLowerCase();
    await t.http.post('/api/orgs').set(admin).send({ orgId, name: orgId, ownerUserId: owner.id }).expect(201);
    await put({ orgId, currency: 'jpy' }).expect(200, { orgId, billingCurrency: 'jpy' });
    expect((await t.http.get(`/api/orgs/${orgId}`).set(admin).expect(200)).body.billingCurrency).toBe('jpy');
    expect((await t.http.get(`/api/orgs/${orgId}/balance`).set(admin).expect(200)).body.billingCurrency).toBe('jpy');
    await purchase({ orgId, credits: 100, amount: '1.00', currency: 'usd' })
      .expect(409)
      .expect((r) => expect(r.body.code).toBe('CURRENCY_MISMATCH'));
  });

  it('the package list puts those priced in the account’s currency first, across pages', async () => {
    const yen = (await createPackage({ prices: [PRICES[1]] }, 201, 'mc-zz')).packageId;
    const dollar = (await createPackage({ prices: [PRICES[0]] }, 201, 'mc-00')).packageId;
    const u = await f.newUser();
    await t.http.put('/api/accounts/billing-currency').set(admin).send({ userId: u.id, currency: 'jpy' }).expect(200);
    const listed = await listAll(u.auth);
    const inYen = listed.map((p) => p.prices.some((x) => x.currency === 'jpy'));
    expect(inYen.indexOf(false)).toBeGreaterThan(inYen.lastIndexOf(true));
    expect(listed.findIndex((p) => p.packageId === yen)).toBeLessThan(listed.findIndex((p) => p.packageId === dollar));
    expect(new Set(listed.map((p) => p.packageId)).size).toBe(listed.length);
    // Without a billing currency: by id, whatever the currency.
    const other = await f.newUser();
    const ids = (await listAll(other.auth)).map((p) => p.packageId);
    expect(ids.indexOf(dollar)).toBeLessThan(ids.indexOf(yen));
    // The currency filter lists packages with a price in it.
    const jpyOnly = (await listAll(u.auth, { currency: 'jpy' })).map((p) => p.packageId);
    expect(jpyOnly).toContain(yen);
    expect(jpyOnly).not.toContain(dollar);
  });
});
