import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CreditExpiryJob } from '../src/plans/credit-expiry.job.js';
import { bearer, startTestApp, type TestApp } from './support/app.js';
import { type Currency, toUsdCents } from './support/currency-money.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';

const admin = bearer(tokenFor('admin', 'reporting-admin'));
const DAY = 86_400_000;

const cents = (text: string) => BigInt(text.replace('.', ''));

/**
 * The roll-forward and the liability in the reporting currency (docs/finance.md "The reporting
 * currency"), over HTTP with usd, jpy and kwd lots whose lines fall on four UTC days: every figure is
 * the sum of the ledger's lines each converted at its own day's rate and rounded to the cent, half
 * away from zero; the identities hold exactly; a day without a rate is 422 FX_RATE_MISSING naming it
 * and the currencies it lacks, answered once stored; a rate stored later for a past day converts that
 * day from then on.
 */
describe('finance: the reporting currency', () => {
  let own: OwnDatabase;
  let t: TestApp;
  let f: Fixtures;
  let a: FixtureUser;
  let b: FixtureUser;
  let c: FixtureUser;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const today = Date.parse(`${day(Date.now())}T00:00:00.000Z`);
  const [d3, d2, d1, d0] = [3, 2, 1, 0].map((n) => day(today - n * DAY));
  const from = d3;
  const to = day(today + DAY);

  /** As if the grant of `allocationId` had been written `days` ago (at noon): the ledger's own rows, set by SQL. */
  async function grantedDaysAgo(allocationId: string, days: number): Promise<void> {
    const client = await t.db.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL session_replication_role = replica`);
      await client.query(
        `UPDATE credit_ledger SET created_at = $2::timestamptz WHERE allocation_id = $1 AND kind = 'grant'`,
        [allocationId, new Date(today - days * DAY + DAY / 2).toISOString()],
      );
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  }

  beforeAll(async () => {
    own = await ownDatabase('reporting');
    t = await startTestApp({ DATABASE_URL: own.url, JOBS_ENABLED: 'false' });
    f = new Fixtures(t, { prefix: 'rep' });
    [a, b, c] = [await f.newUser(), await f.newUser(), await f.newUser()];
    const allocate = async (body: Record<string, unknown>, daysAgo: number) => {
      const res = await t.http.post('/api/credits/allocate').set(admin).send(body).expect(201);
      await grantedDaysAgo(res.body.id, daysAgo);
      return res.body.id as string;
    };
    await allocate({ userId: a.id, credits: 1000, value: { amount: '10.00', currency: 'usd' } }, 3);
    await allocate({ userId: b.id, credits: 3, value: { amount: '1000', currency: 'jpy' } }, 2);
    await allocate({ userId: c.id, credits: 4, value: { amount: '10.000', currency: 'kwd' } }, 2);
    const expiring = await allocate(
      { userId: c.id, credits: 5, expiryDays: 30, value: { amount: '10.000', currency: 'kwd' } },
      3,
    );
    // Its expiry is booked yesterday at noon, whenever the job runs.
    await t.db.query(`UPDATE credit_allocations SET expires_at = $2 WHERE id = $1`, [
      expiring,
      new Date(today - DAY / 2).toISOString(),
    ]);
    await t.app.get(CreditExpiryJob).expireDue();
    for (const [u, credits] of [
      [a, 333],
      [b, 1],
      [c, 2],
    ] as const) {
      await t.http
        .post('/api/usage/record')
        .set(u.auth)
        .send({ service: 'chat', operation: 'completion', credits })
        .expect(201);
    }
  });
  afterAll(async () => {
    await t?.close();
    await own?.drop();
  });

  const rollForward = (query: Record<string, string> = {}) =>
    t.http
      .get('/api/finance/rollforward')
      .query({ reportingCurrency: 'usd', from, to, ...query })
      .set(admin);
  const putRates = (date: string, rates: Record<string, string>) =>
    t.http.put('/api/finance/fx-rates').set(admin).send({ date, rates }).expect(200);

  /** Every categorized valued line as the roll-forward books it, converted here at its day's rate. */
  async function expected(rates: Record<string, Record<string, string>>): Promise<Map<string, bigint>> {
    const { rows } = await t.db.query<{ category: string; currency: string; value: string; day: string }>(
      `SELECT category, currency, value_minor::text AS value,
              to_char((COALESCE(booked_at, created_at) AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS day
         FROM credit_ledger WHERE category IS NOT NULL AND currency IS NOT NULL`,
    );
    const sums = new Map<string, bigint>();
    for (const r of rows) {
      const converted =
        r.currency === 'usd'
          ? BigInt(r.value)
          : toUsdCents(BigInt(r.value), r.currency as Currency, rates[r.day][r.currency]);
      sums.set(r.category, (sums.get(r.category) ?? 0n) + converted);
      sums.set('net', (sums.get('net') ?? 0n) + converted);
    }
    return sums;
  }

  it('a day without a rate → 422 FX_RATE_MISSING naming the days and pairs; an instant before them answers', async () => {
    const none = await rollForward().expect(422);
    expect(none.body).toMatchObject({ code: 'FX_RATE_MISSING', days: [d3, d2, d1, d0] });
    // Each day's currencies that moved money without a rate into usd: the kwd lot granted on d3 and
    // expired on d1, the jpy and kwd lots granted on d2 and used on d0 (a's usd needs none).
    const pair = (day: string, from: string) => ({ day, from, to: 'usd' });
    expect(none.body.missing).toEqual([
      pair(d3, 'kwd'),
      pair(d2, 'jpy'),
      pair(d2, 'kwd'),
      pair(d1, 'kwd'),
      pair(d0, 'jpy'),
      pair(d0, 'kwd'),
    ]);
    // kwd's tie: 10.000 × 3.2605 = 32.605 usd → 32.61 (half away from zero)
    await putRates(d3, { kwd: '3.2605' });
    await putRates(d2, { jpy: '0.006712', kwd: '3.2605', eur: '1.08' });
    await putRates(d0, { jpy: '0.0067', kwd: '3.2605' });
    const some = await rollForward({ interval: 'day' }).expect(422);
    expect(some.body).toMatchObject({ code: 'FX_RATE_MISSING', days: [d1], missing: [pair(d1, 'kwd')] });
    await t.http.get('/api/finance/liability').query({ reportingCurrency: 'usd' }).set(admin).expect(422);
    // The liability at the end of d2 needs d3 and d2 only.
    const before = await t.http
      .get('/api/finance/liability')
      .query({ reportingCurrency: 'usd', at: `${d1}T00:00:00Z` })
      .set(admin)
      .expect(200);
    // 10.00 usd + 1000 jpy → 6.71 + 2 × 10.000 kwd → 32.61 each
    expect(before.body).toMatchObject({ currency: 'usd', reportingCurrency: 'usd', total: '81.93' });
    // 1.0 is the reporting currency's rate; 400 for another, or for currency beside reportingCurrency.
    await rollForward({ reportingCurrency: 'eur' }).expect(400);
    await rollForward({ currency: 'usd' }).expect(400);
    // Naming neither converts into the reporting currency: the same answer, its days missing too.
    const neither = await t.http.get('/api/finance/rollforward').query({ from, to }).set(admin).expect(422);
    const named = await rollForward({}).expect(422);
    expect(neither.body).toEqual({ ...named.body, requestId: neither.body.requestId });
  });

  it('once stored: every figure is Σ line × its day’s rate rounded per line; identities exact', async () => {
    await putRates(d1, { kwd: '3.2598' });
    const rates: Record<string, Record<string, string>> = {
      [d3]: { kwd: '3.2605' },
      [d2]: { jpy: '0.006712', kwd: '3.2605' },
      [d1]: { kwd: '3.2598' },
      [d0]: { jpy: '0.0067', kwd: '3.2605' },
    };
    const want = await expected(rates);
    const res = await rollForward({ interval: 'day' }).expect(200);
    expect(res.body).toMatchObject({ currency: 'usd', reportingCurrency: 'usd', interval: 'day' });
    const totals = res.body.totals as Record<string, string>;
    expect(cents(totals.sold)).toBe(want.get('sold'));
    expect(cents(totals.recognized)).toBe(-want.get('recognized')!);
    expect(cents(totals.expired)).toBe(-want.get('expired')!);
    expect(cents(totals.closing)).toBe(want.get('net'));
    // By hand: sold 10.00 + 6.71 + 32.61 + 32.61; recognized 3.33 + 2.24 (333 jpy × 0.0067 = 2.2311 → 2.23)…
    expect(totals).toMatchObject({ opening: '0.00', sold: '81.93', recognized: '21.86', expired: '32.60' });
    expect(totals.closing).toBe('27.47');
    const periods = res.body.periods as Record<string, string>[];
    expect(periods.map((p) => p.start.slice(0, 10))).toEqual([d3, d2, d1, d0]);
    for (const [i, p] of periods.entries()) {
      const inflow = cents(p.purchased) + cents(p.sold) + cents(p.transferredIn);
      const outflow = ['recognized', 'expired', 'refunded', 'chargedBack', 'voided', 'transferredOut']
        .map((k) => cents(p[k]))
        .reduce((x, y) => x + y, 0n);
      expect(cents(p.opening) + inflow - outflow).toBe(cents(p.closing));
      if (i > 0) expect(p.opening).toBe(periods[i - 1].closing);
    }
    const byAccount = await rollForward({ groupBy: 'account' }).expect(200);
    const accounts = byAccount.body.accounts as { userId: string; totals: Record<string, string> }[];
    expect(accounts.map((x) => x.userId).sort()).toEqual([a.id, b.id, c.id].sort());
    for (const key of ['sold', 'recognized', 'expired', 'closing']) {
      expect(accounts.map((x) => cents(x.totals[key])).reduce((x, y) => x + y, 0n)).toBe(cents(totals[key]));
    }
    const liability = await t.http
      .get('/api/finance/liability')
      .query({ reportingCurrency: 'usd' })
      .set(admin)
      .expect(200);
    expect(liability.body.total).toBe(totals.closing);
    const listed = liability.body.accounts as { value: string }[];
    expect(listed.map((x) => cents(x.value)).reduce((x, y) => x + y, 0n)).toBe(cents(totals.closing));
    const csv = await rollForward({ format: 'csv' }).expect(200);
    // One row a month the range touches: two in a month's first three days. The last one closes at 27.47.
    const rows = csv.text.trim().split('\r\n').slice(1);
    expect(rows).toHaveLength(new Set([d3.slice(0, 7), d0.slice(0, 7)]).size);
    expect(rows.at(-1)!.endsWith(',27.47,0.00,0.00'), rows.at(-1)).toBe(true);
    // Each currency on its own is untouched by the rates.
    const kwd = await t.http
      .get('/api/finance/rollforward')
      .query({ currency: 'kwd', from, to })
      .set(admin)
      .expect(200);
    expect(kwd.body.totals).toMatchObject({ sold: '20.000', recognized: '5.000', expired: '10.000', closing: '5.000' });
    expect(kwd.body.reportingCurrency).toBeUndefined();
  });

  it('a rate stored later for a past day converts that day from then on', async () => {
    await putRates(d1, { kwd: '3.3' });
    const res = await rollForward().expect(200);
    // The expiry of 10.000 kwd booked on d1: 32.598 → 32.60 before, 33.00 now.
    expect(res.body.totals).toMatchObject({ expired: '33.00', closing: '27.07' });
    const liability = await t.http
      .get('/api/finance/liability')
      .query({ reportingCurrency: 'usd' })
      .set(admin)
      .expect(200);
    expect(liability.body.total).toBe('27.07');
  });
});
