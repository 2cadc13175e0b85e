import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CLOCK, type Clock } from '../src/common/clock.js';
import { ROLL_FORWARD_TOTALS_REUSE_MS } from '../src/finance/finance.service.js';
import { CreditExpiryJob } from '../src/plans/credit-expiry.job.js';
import { bearer, startTestApp, type TestApp } from './support/app.js';
import { expireAllocationNow } from './support/clock.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';

// The security review's findings about heavy reads (docs/operations.md "Heavy reads", docs/finance.md):
// W1, a roll-forward by account by day over a year of 20,000 accounts holding only signup credits
// built every account's figures in memory (4.7 GB, 151 s, then a 500 from JSON.stringify); W6, 24
// simulations at once held the request pool and metering answered 503 while they ran.

const admin = bearer(tokenFor('admin', 'sfh-admin'));
const DAY = 86_400_000;
const PROMOTIONAL_ONLY = 205;

type AccountFigures = {
  userId?: string;
  periods: unknown[];
  totals: Record<string, string>;
  promotional: Record<string, number>;
};

describe('security findings: heavy reads', () => {
  let own: OwnDatabase;
  let t: TestApp;
  let f: Fixtures;
  const signups: FixtureUser[] = [];
  const valued: FixtureUser[] = [];
  let spentOut: FixtureUser;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const today = () => Date.now() - (Date.now() % DAY);

  beforeAll(async () => {
    own = await ownDatabase('heavyreads');
    t = await startTestApp({ DATABASE_URL: own.url, JOBS_ENABLED: 'false' });
    f = new Fixtures(t, { prefix: 'sfh' });
    for (let i = 0; i < PROMOTIONAL_ONLY; i += 15) {
      const batch = Array.from({ length: Math.min(15, PROMOTIONAL_ONLY - i) }, () => f.newUser({ credits: 50 }));
      signups.push(...(await Promise.all(batch)));
    }
    const sell = async (credits: number, amount: string) => {
      const user = await f.newUser();
      const lot = await f.allocate(user.id, { credits, value: { amount, currency: 'eur' } }).expect(201);
      return { user, lot: lot.body.id as string };
    };
    for (let i = 0; i < 3; i++) valued.push((await sell(100 * (i + 1), '1.00')).user);
    // A valued lot that expired: it moved today and holds nothing afterwards.
    const expiring = await sell(7, '7.00');
    spentOut = expiring.user;
    await expireAllocationNow(own.db, expiring.lot);
    await t.app.get(CreditExpiryJob).expireDue();
  }, 180_000);
  afterAll(async () => {
    await t?.close();
    await own?.drop();
  });

  const rollForward = (query: Record<string, string>) =>
    t.http
      .get('/api/finance/rollforward')
      .query({ currency: 'eur', interval: 'day', groupBy: 'account', ...query })
      .set(admin);

  /** Every page of the accounts, following nextCursor. */
  async function allPages(query: Record<string, string>): Promise<{ pages: AccountFigures[][]; body: any }> {
    const pages: AccountFigures[][] = [];
    let cursor: string | undefined;
    let body: any;
    do {
      const res = await rollForward({ ...query, ...(cursor ? { cursor } : {}) });
      expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
      body = res.body;
      pages.push(res.body.accounts);
      cursor = res.body.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return { pages, body };
  }

  describe('W1: the roll-forward by account pages its accounts, chosen and summed in SQL', () => {
    it('100 accounts a page by default, nextCursor to the next, and the pages add up to the totals', async () => {
      const range = { from: day(today() - DAY), to: day(today() + DAY) };
      const { pages, body } = await allPages(range);
      expect(pages.map((p) => p.length)).toEqual([100, 100, PROMOTIONAL_ONLY + 4 - 200]);
      const accounts = pages.flat();
      const ids = accounts.map((a) => a.userId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(new Set(ids)).toEqual(new Set([...signups, ...valued, spentOut].map((u) => u.id)));
      for (const a of accounts) expect(a.periods).toHaveLength(2);
      const cents = (s: string) => BigInt(s.replace('.', ''));
      const sum = (pick: (a: AccountFigures) => bigint) => accounts.reduce((n, a) => n + pick(a), 0n);
      expect(sum((a) => cents(a.totals.closing))).toBe(cents(body.totals.closing));
      expect(sum((a) => cents(a.totals.expired))).toBe(cents(body.totals.expired));
      expect(sum((a) => BigInt(a.promotional.closing))).toBe(BigInt(body.promotional.closing));
      expect(body.totals).toMatchObject({ sold: '10.00', expired: '7.00', closing: '3.00' });
      expect(body.promotional.closing).toBe(50 * PROMOTIONAL_ONLY);
    });

    it('limit is 1 to 1,000 (default 100); a forged cursor is a 400', async () => {
      const range = { from: day(today() - DAY), to: day(today() + DAY) };
      const all = await rollForward({ ...range, limit: '1000' }).expect(200);
      expect(all.body.accounts).toHaveLength(PROMOTIONAL_ONLY + 4);
      expect(all.body.nextCursor).toBeNull();
      const two = await rollForward({ ...range, limit: '2' }).expect(200);
      expect(two.body.accounts).toHaveLength(2);
      const next = await rollForward({ ...range, limit: '2', cursor: two.body.nextCursor }).expect(200);
      expect(next.body.accounts[0].userId).toBe(all.body.accounts[2].userId);
      for (const limit of ['0', '1001', '-1', '1e2']) await rollForward({ ...range, limit }).expect(400);
      await rollForward({ ...range, cursor: Buffer.from('x1').toString('base64url') }).expect(400);
    });

    it('a page holds at most 36,600 account periods: 100 accounts by day over a year, whatever the limit', async () => {
      const year = { from: day(today() - 365 * DAY), to: day(today() + DAY), limit: '1000' };
      const first = await rollForward(year).expect(200);
      expect(first.body.accounts).toHaveLength(100);
      expect(first.body.accounts[0].periods).toHaveLength(366);
      expect(first.body.nextCursor).not.toBeNull();
      // The next page goes on where the bound cut this one: none of its accounts again.
      const shown = new Set((first.body.accounts as AccountFigures[]).map((a) => a.userId));
      expect(shown.size).toBe(100);
      const next = await rollForward({ ...year, cursor: first.body.nextCursor }).expect(200);
      expect(next.body.accounts.length).toBeGreaterThan(0);
      expect(next.body.accounts.length).toBeLessThanOrEqual(100);
      expect((next.body.accounts as AccountFigures[]).filter((a) => shown.has(a.userId))).toEqual([]);
      // A month by day: 31 periods, so the limit asked for decides.
      const month = await rollForward({ from: day(today() - 30 * DAY), to: day(today() + DAY), limit: '1000' });
      expect(month.status).toBe(200);
      expect(month.body.accounts).toHaveLength(PROMOTIONAL_ONLY + 4);
    });

    it('lists only accounts with a movement or a balance in the range', async () => {
      // Tomorrow on: nothing moves; the expired lot's account holds nothing, the others still do.
      const { pages } = await allPages({ from: day(today() + DAY), to: day(today() + 3 * DAY), limit: '1000' });
      const ids = pages.flat().map((a) => a.userId);
      expect(ids).not.toContain(spentOut.id);
      expect(new Set(ids)).toEqual(new Set([...signups, ...valued].map((u) => u.id)));
    });

    it('the CSV streams every account from the cursor on, page by page (not one string)', async () => {
      const range = { from: day(today() - DAY), to: day(today() + DAY) };
      const res = await rollForward({ ...range, format: 'csv' }).expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      expect(res.headers['transfer-encoding']).toBe('chunked');
      const rows = res.text.trim().split('\r\n');
      // The header, all accounts' two days, then each account's two days.
      expect(rows).toHaveLength(1 + 2 + 2 * (PROMOTIONAL_ONLY + 4));
      const after = await rollForward({ ...range, limit: '200' }).expect(200);
      const rest = await rollForward({ ...range, format: 'csv', cursor: after.body.nextCursor }).expect(200);
      expect(rest.text.trim().split('\r\n')).toHaveLength(1 + 2 + 2 * (PROMOTIONAL_ONLY + 4 - 200));
    });

    it('the liability pages in the database and its CSV streams every account', async () => {
      const page = (query: Record<string, string>) =>
        t.http
          .get('/api/finance/liability')
          .query({ currency: 'eur', ...query })
          .set(admin);
      const first = await page({ limit: '2' }).expect(200);
      expect(first.body).toMatchObject({
        total: '3.00',
        accounts: [{ userId: valued[0].id }, { userId: valued[1].id }],
      });
      const second = await page({ limit: '2', cursor: first.body.nextCursor }).expect(200);
      expect(second.body).toMatchObject({ total: '3.00', accounts: [{ userId: valued[2].id }], nextCursor: null });
      const csv = await page({ format: 'csv' }).expect(200);
      expect(csv.headers['transfer-encoding']).toBe('chunked');
      expect(csv.text.trim().split('\r\n')).toHaveLength(4);
      await page({ limit: '1001' }).expect(400);
    });
    it('a page after the first answers the figures of all accounts its roll-forward summed, for five minutes', async () => {
      // Dollars, which nothing else here holds: the promotional figures and the euro ones stay as they are.
      const range = { currency: 'usd', from: day(today() - DAY), to: day(today() + DAY), limit: '1' };
      const sell = async (amount: string) => {
        const buyer = await f.newUser();
        await f.allocate(buyer.id, { credits: 100, value: { amount, currency: 'usd' } }).expect(201);
      };
      await sell('1.00');
      await sell('1.00');
      const clock = t.app.get<Clock>(CLOCK);
      const wall = clock.now.bind(clock);
      let now = clock.now();
      clock.now = () => now;
      try {
        const first = await rollForward(range).expect(200);
        expect(first.body.totals).toMatchObject({ sold: '2.00', closing: '2.00' });
        // Sold after the first page: the next page carries the first page's figures (no second pass
        // over every line of the range), so the pages of one listing agree with each other.
        await sell('5.00');
        const second = await rollForward({ ...range, cursor: first.body.nextCursor }).expect(200);
        expect(second.body.accounts).toHaveLength(1);
        expect(second.body.totals).toEqual(first.body.totals);
        expect(second.body.periods).toEqual(first.body.periods);
        expect(second.body.promotional).toEqual(first.body.promotional);
        // Five minutes on, a page after the first sums them again.
        now += ROLL_FORWARD_TOTALS_REUSE_MS + 1;
        const later = await rollForward({ ...range, cursor: first.body.nextCursor }).expect(200);
        expect(later.body.totals).toMatchObject({ sold: '7.00', closing: '7.00' });
        // A first page always sums them, and they are the roll-forward's of all accounts.
        await sell('0.50');
        const again = await rollForward(range).expect(200);
        expect(again.body.totals).toMatchObject({ sold: '7.50', closing: '7.50' });
        const whole = await t.http
          .get('/api/finance/rollforward')
          .query({ currency: 'usd', interval: 'day', from: range.from, to: range.to })
          .set(admin)
          .expect(200);
        expect(again.body.totals).toEqual(whole.body.totals);
        expect(again.body.periods).toEqual(whole.body.periods);
      } finally {
        clock.now = wall;
      }
    });
  });
  describe('W6: simulations at once never take metering down', () => {
    const modelId = 'sfh.simulated-model';
    let meterer: FixtureUser;

    beforeAll(async () => {
      const rule = await t.http.post('/api/pricing').set(admin).send({ modelId, pricePer1kTokens: '1' }).expect(201);
      meterer = await f.newUser({ credits: 1_000_000 });
      // Records enough that one simulation takes a while: 60,000 over the last ten days (rows, not metering).
      await own.db.query(
        `INSERT INTO usage_records (user_id, "timestamp", service, operation, credits, model_id, tokens, pricing_rule_id, account_id)
         SELECT $1, now() - (g % 864000) * interval '1 second', 'chat', 'completion', 5, $2, 5000, $3::uuid, (SELECT account_id FROM accounts WHERE user_id = $1::varchar)
           FROM generate_series(1, 60000) g`,
        [meterer.id, modelId, rule.body.id],
      );
      await own.db.query('ANALYZE usage_records');
    }, 120_000);

    // One instant for both ends: two readings of the clock a millisecond apart made 400 days 400 days
    // and a millisecond, refused as too long.
    const simulation = (days: number, now = Date.now()) => ({
      from: new Date(now - days * DAY).toISOString(),
      to: new Date(now).toISOString(),
      rules: [{ modelId, pricePer1kTokens: '0.5' }],
      groupBy: 'day',
    });

    it('24 at once: some 429 with Retry-After, no 5xx but 503 TIMEOUT, and metering meanwhile all succeeds', async () => {
      const simulations = Promise.all(
        Array.from({ length: 24 }, () => t.http.post('/api/pricing/simulations').set(admin).send(simulation(11))),
      );
      let settled = false;
      void simulations.finally(() => (settled = true));
      const metered: number[] = [];
      const balances: number[] = [];
      // Metering interleaved with the simulations, one request after another, until they are all answered.
      while (!settled || metered.length < 10) {
        const record = await t.http
          .post('/api/usage/record')
          .set(meterer.auth)
          .send({ service: 'chat', operation: 'completion', credits: 1 });
        metered.push(record.status);
        balances.push((await t.http.get('/api/credits/balance').set(meterer.auth)).status);
      }
      const answers = await simulations;
      const statuses = answers.map((r) => r.status);
      expect(statuses.filter((s) => s === 429).length, statuses.join()).toBeGreaterThan(0);
      expect(statuses.filter((s) => s === 200).length, statuses.join()).toBeGreaterThan(0);
      for (const r of answers) {
        expect([200, 429, 503], JSON.stringify(r.body)).toContain(r.status);
        if (r.status === 429) {
          expect(r.body.code).toBe('HEAVY_READS_BUSY');
          expect(r.headers['retry-after']).toBe('5');
        }
        if (r.status === 503) expect(r.body.code).toBe('TIMEOUT');
        if (r.status === 200) expect(r.body.records).toBeGreaterThanOrEqual(60_000);
      }
      expect(new Set(metered)).toEqual(new Set([201]));
      expect(new Set(balances)).toEqual(new Set([200]));
    });

    it('a simulation over more than 400 days is a 400 RANGE_TOO_LONG; 400 days runs', async () => {
      const long = await t.http.post('/api/pricing/simulations').set(admin).send(simulation(401)).expect(400);
      expect(long.body.code).toBe('RANGE_TOO_LONG');
      const year = await t.http.post('/api/pricing/simulations').set(admin).send(simulation(400)).expect(200);
      expect(year.body.records).toBeGreaterThanOrEqual(60_000);
    });
  });
});
