import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CreditExpiryJob } from '../src/plans/credit-expiry.job.js';
import { bearer, startTestApp, type TestApp } from './support/app.js';
import { expireAllocationNow } from './support/clock.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';

const admin = bearer(tokenFor('admin', 'finance-admin'));
const DAY = 86_400_000;

/**
 * The roll-forward and the liability at an instant (docs/finance.md), over HTTP on a database of
 * their own (they sum every account): the identity of every period, closing = next opening, the
 * accounts adding up to the totals, and the liability at an instant equal to the closing then.
 */
describe('finance: roll-forward and liability', () => {
  let own: OwnDatabase;
  let t: TestApp;
  let f: Fixtures;
  let a: FixtureUser;
  let b: FixtureUser;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  let from: string;
  let to: string;

  beforeAll(async () => {
    own = await ownDatabase('finance');
    t = await startTestApp({ DATABASE_URL: own.url, JOBS_ENABLED: 'false' });
    f = new Fixtures(t, { prefix: 'rf' });
    a = await f.newUser();
    b = await f.newUser();
    const allocate = (body: Record<string, unknown>) =>
      t.http.post('/api/credits/allocate').set(admin).send(body).expect(201);
    await allocate({ userId: a.id, credits: 1000, value: { amount: '10.00', currency: 'eur' } });
    await allocate({ userId: a.id, credits: 50, expiryDays: 60 }); // promotional, spent last
    const lot = await allocate({ userId: b.id, credits: 3, value: { amount: '10.00', currency: 'eur' } });
    await t.http
      .post('/api/usage/record')
      .set(a.auth)
      .send({ service: 'chat', operation: 'completion', credits: 333 })
      .expect(201);
    await expireAllocationNow(t.db, lot.body.id);
    await t.app.get(CreditExpiryJob).expireDue();
    const now = Date.now();
    from = day(now - 2 * DAY);
    to = day(now + 2 * DAY);
  });
  afterAll(async () => {
    await t?.close();
    await own?.drop();
  });

  const rollForward = (query: Record<string, string>) =>
    t.http
      .get('/api/finance/rollforward')
      .query({ currency: 'eur', from, to, ...query })
      .set(admin);

  it('one range: sold, recognised, expired and the closing, to the cent', async () => {
    const res = await rollForward({ interval: 'month' }).expect(200);
    expect(res.body.currency).toBe('eur');
    expect(res.body.totals).toEqual({
      opening: '0.00',
      purchased: '0.00',
      sold: '20.00',
      recognized: '3.33',
      corrected: '0.00',
      expired: '10.00',
      refunded: '0.00',
      chargedBack: '0.00',
      voided: '0.00',
      transferredIn: '0.00',
      transferredOut: '0.00',
      closing: '6.67',
      disputed: '0.00',
    });
    expect(res.body.promotional).toMatchObject({ opening: 0, granted: 50, consumed: 0, closing: 50 });
  });

  it('by day: every period’s identity holds and its closing is the next opening', async () => {
    const res = await rollForward({ interval: 'day' }).expect(200);
    const periods = res.body.periods as Record<string, string>[];
    expect(periods).toHaveLength(4);
    const cents = (s: string) => Math.round(Number(s) * 100);
    for (const [i, p] of periods.entries()) {
      const inflow = cents(p.purchased) + cents(p.sold) + cents(p.transferredIn);
      const outflow = ['recognized', 'expired', 'refunded', 'chargedBack', 'voided', 'transferredOut']
        .map((k) => cents(p[k]))
        .reduce((x, y) => x + y, 0);
      expect(cents(p.opening) + inflow - outflow).toBe(cents(p.closing));
      if (i > 0) expect(p.opening).toBe(periods[i - 1].closing);
    }
    expect(periods.at(-1)!.closing).toBe('6.67');
  });

  it('groupBy=account: each account’s figures, adding up to the totals', async () => {
    const res = await rollForward({ groupBy: 'account' }).expect(200);
    const accounts = res.body.accounts as { userId: string; totals: Record<string, string> }[];
    expect(accounts.map((x) => [x.userId, x.totals.closing])).toEqual([
      [a.id, '6.67'],
      [b.id, '0.00'],
    ]);
    expect(accounts.find((x) => x.userId === b.id)!.totals).toMatchObject({ sold: '10.00', expired: '10.00' });
  });

  it('the liability now equals the closing; before everything it is nothing', async () => {
    const now = await t.http.get('/api/finance/liability').query({ currency: 'eur' }).set(admin).expect(200);
    expect(now.body).toMatchObject({
      currency: 'eur',
      total: '6.67',
      accounts: [{ userId: a.id, credits: 667, value: '6.67' }],
      nextCursor: null,
    });
    const before = await t.http
      .get('/api/finance/liability')
      .query({ currency: 'eur', at: '2020-01-01T00:00:00Z' })
      .set(admin)
      .expect(200);
    expect(before.body).toMatchObject({ total: '0.00', accounts: [] });
    const csv = await t.http.get('/api/finance/liability').query({ currency: 'eur', format: 'csv' }).set(admin);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.text).toBe(`userId,orgId,credits,value\r\n"${a.id}",,667,6.67\r\n`);
  });

  it('CSV of the roll-forward; bad currency, dates or range → 400; users → 403', async () => {
    const csv = await rollForward({ format: 'csv' }).expect(200);
    const [header, ...rows] = csv.text.trim().split('\r\n');
    expect(header).toBe(
      'userId,orgId,start,end,opening,purchased,sold,transferredIn,recognized,expired,refunded,chargedBack,voided,transferredOut,closing,disputed,corrected',
    );
    // one row a month the range touches: two when its four days cross a month's end
    const months = new Set([from.slice(0, 7), day(Date.parse(to) - DAY).slice(0, 7)]);
    expect(rows).toHaveLength(months.size);
    // the last period's closing, disputed, corrected
    expect(rows.at(-1)!.endsWith(',6.67,0.00,0.00'), rows.at(-1)).toBe(true);
    await rollForward({ currency: 'xyz' }).expect(400);
    await rollForward({ from: to, to: from }).expect(400);
    await rollForward({ from: '2025-01-01', to: '2026-01-03' }).expect(400);
    await rollForward({ interval: 'week' }).expect(400);
    await t.http.get('/api/finance/rollforward').query({ currency: 'eur', from, to }).set(a.auth).expect(403);
    await t.http.get('/api/finance/liability').query({ currency: 'eur' }).set(a.auth).expect(403);
  });
});
