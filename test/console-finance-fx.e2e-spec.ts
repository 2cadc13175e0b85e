import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { HeavyReadsBusyError } from '../src/common/errors/domain-error.js';
import { bearer, type TestApp, token, uniqueId } from './support/app.js';
import { chromiumAvailable, poll, ServedConsole, shot } from './support/console-browser.js';

/**
 * The console's Finance page in the reporting currency (docs/finance.md "The reporting currency"), in
 * Chromium at 1280 and 375 px: with usd, eur and jpy lots granted on three UTC days, the page names
 * the days without an FX rate, then, once they are stored, shows the converted roll-forward and
 * liability exactly as the API answers them, and the stored rates. Screenshots land in
 * test-results/console/.
 */
const DAY = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const today = Date.parse(`${day(Date.now())}T00:00:00.000Z`);
const [d2, d1] = [2, 1].map((n) => day(today - n * DAY));
const WIDTHS = [1280, 375] as const;
/** What the service answers a heavy read beyond HEAVY_READS_CONCURRENCY. */
const BUSY = new HeavyReadsBusyError(5);

/** Statements of this spec's database waiting for a lock on the ledger. */
async function waitingOnTheLock(): Promise<number> {
  const { rows } = await t.db.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%credit_ledger%'`,
  );
  return rows[0].n;
}

/**
 * The ledger locked by a transaction of the spec's own, so every read of it waits (up to
 * DB_LOCK_TIMEOUT_MS); the answer ends that transaction, once however often it is called.
 */
async function lockTheLedger(): Promise<() => Promise<void>> {
  const locker = await t.db.connect();
  try {
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE credit_ledger IN ACCESS EXCLUSIVE MODE');
  } catch (error) {
    locker.release(true);
    throw error;
  }
  let locked = true;
  return async () => {
    if (!locked) return;
    locked = false;
    await locker.query('ROLLBACK');
    locker.release();
  };
}

const pageOverflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

let served: ServedConsole;
let t: TestApp;
const adminId = uniqueId('fxadmin');
const admin = () => bearer(token({ sub: adminId, role: 'admin' }));

/** The first day (UTC) of the month `back` months before the current one, as the page's range has it. */
function monthStart(back: number): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 1)).toISOString().slice(0, 10);
}

describe.skipIf(!chromiumAvailable)('the Finance page in the reporting currency', () => {
  /**
   * A user with a valued lot granted `daysAgo` days ago at noon (the ledger's own row, set by SQL);
   * today's halfway between midnight and now, so it is in the past at any hour.
   */
  async function lot(amount: string, currency: string, credits: number, daysAgo: number): Promise<void> {
    const userId = uniqueId('fxbuyer');
    await t.http
      .get('/api/users/me')
      .set(bearer(token({ sub: userId })))
      .expect(200);
    const res = await t.http
      .post('/api/credits/allocate')
      .set(admin())
      .send({ userId, credits, value: { amount, currency } })
      .expect(201);
    const client = await t.db.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL session_replication_role = replica`);
      await client.query(
        `UPDATE credit_ledger SET created_at = $2::timestamptz WHERE allocation_id = $1 AND kind = 'grant'`,
        [
          res.body.id,
          new Date(
            daysAgo === 0 ? today + Math.floor((Date.now() - today) / 2) : today - daysAgo * DAY + DAY / 2,
          ).toISOString(),
        ],
      );
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  }

  beforeAll(async () => {
    // Its own database: the converted figures are every currency's money, so no other spec's.
    // A lock waited for 3 s at most: the last case waits it out.
    served = await ServedConsole.onOwnDatabase('console_finance_fx', {
      JOBS_ENABLED: 'false',
      DB_LOCK_TIMEOUT_MS: '3000',
    });
    ({ t } = served);
    await t.http.get('/api/users/me').set(admin()).expect(200);
    await lot('10.00', 'usd', 1000, 0);
    await lot('25.00', 'eur', 2500, 2);
    await lot('1000', 'jpy', 700, 1);
  }, 120_000);
  afterAll(async () => {
    await served?.close();
  });

  it('names the days without a rate, then shows the API’s converted figures and the rates', async () => {
    const { page, errors } = await served.open();
    /**
     * The page loaded (`load`), then in the reporting currency once the reads of the view it opened on
     * have answered: each view asks for a roll-forward and a liability page, heavy reads the service
     * runs two at a time (HEAVY_READS_CONCURRENCY), so switching while the first two still run asks
     * for four, and a slow machine's third is refused 429.
     */
    const inUsd = async (load: () => Promise<unknown>) => {
      await load();
      await page.waitForLoadState('networkidle');
      await page.getByText('All in USD').click();
    };
    await served.signIn(page, token({ sub: adminId, role: 'admin' }));
    await inUsd(async () => {
      await page.waitForLoadState('networkidle'); // the overview's reads, which sign-in opens on
      await page.goto(`${served.baseUrl}/admin/finance`);
      await poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Finance');
    });

    // No rate stored at all: both days of another currency's money are named, the earliest first.
    const alert = page.getByRole('alert').filter({ hasText: 'No FX rate into USD' });
    await poll(() => alert.textContent()).toContain(`is stored for ${d2} and ${d1} (UTC), days on which`);
    expect(await page.getByText(/No FX rates stored from/).count()).toBe(1);
    expect(await page.getByRole('table', { name: /^Roll-forward by month/ }).count()).toBe(0);
    await shot(page, 'finance-fx-missing-two');

    // One day stored: the sentence names the other one only.
    await t.http
      .put('/api/finance/fx-rates')
      .set(admin())
      .send({ date: d2, rates: { eur: '1.0812' } })
      .expect(200);
    await inUsd(() => page.reload());
    await poll(() => alert.textContent()).toContain(`is stored for ${d1} (UTC)`);
    expect(await alert.textContent()).not.toContain(d2);
    expect(await alert.textContent()).toContain(
      'a day on which money of another currency moved: store that day’s rates',
    );

    await t.http
      .put('/api/finance/fx-rates')
      .set(admin())
      .send({ date: d1, rates: { eur: '1.0799', jpy: '0.006712' } })
      .expect(200);
    const range = { from: monthStart(5), to: monthStart(-1), interval: 'month' };
    const api = (
      await t.http
        .get('/api/finance/rollforward')
        .query({ reportingCurrency: 'usd', ...range })
        .set(admin())
        .expect(200)
    ).body;
    const liability = (
      await t.http.get('/api/finance/liability').query({ reportingCurrency: 'usd', limit: 1 }).set(admin()).expect(200)
    ).body;
    // 10.00 usd + 25.00 eur × 1.0812 (27.03) + 1000 jpy × 0.006712 (6.712 → 6.71)
    expect(api.totals.closing).toBe('43.74');
    expect(liability.total).toBe('43.74');

    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 900 });
      await inUsd(() => page.reload());
      const table = page.getByRole('table', { name: 'Roll-forward by month, all currencies in USD' });
      const total = table.getByRole('row').filter({ hasText: 'Total' });
      await poll(() => total.getByRole('cell').allTextContents()).toEqual([
        'Total',
        api.totals.opening,
        api.totals.purchased,
        api.totals.sold,
        api.totals.recognized,
        api.totals.expired,
        api.totals.refunded,
        api.totals.chargedBack,
        api.totals.voided,
        api.totals.transferredIn,
        api.totals.transferredOut,
        api.totals.closing,
        api.totals.disputed,
      ]);
      const month = day(today).slice(0, 7);
      const current = api.periods.find((p: { start: string }) => p.start.startsWith(month));
      const row = table.getByRole('row').filter({ hasText: month });
      expect((await row.getByRole('cell').allTextContents())[11]).toBe(current.closing);
      expect(await page.getByLabel('Closing liability', { exact: true }).textContent()).toBe(
        `${api.totals.closing} USD`,
      );
      expect(await page.getByLabel('Liability now', { exact: true }).textContent()).toBe(`${liability.total} USD`);
      expect(await page.getByRole('alert').count()).toBe(0);

      const rates = page.getByRole('table', { name: 'FX rates into USD' });
      await poll(() => rates.getByRole('row').count()).toBe(3); // header, d1, d2 (newest first)
      expect(await rates.getByRole('row').nth(1).getByRole('cell').allTextContents()).toEqual([
        d1,
        '1.0799',
        '0.006712',
      ]);
      expect(await rates.getByRole('row').nth(2).getByRole('cell').allTextContents()).toEqual([d2, '1.0812', '—']);
      expect(await pageOverflow(page)).toBeLessThanOrEqual(0);
      await shot(page, `finance-fx-reporting-${width}`);

      // Back to one currency: eur's own figures, as they are.
      await page.getByText('Separately', { exact: true }).click();
      await page.getByLabel('Currency').fill('eur');
      await page.getByLabel('Currency').press('Enter');
      await poll(() => page.getByLabel('Liability now', { exact: true }).textContent()).toBe('25.00 EUR');
      expect(await page.getByLabel('Closing liability', { exact: true }).textContent()).toBe('25.00 EUR');
      expect(await page.getByRole('table', { name: 'Roll-forward by month, EUR' }).count()).toBe(1);
      expect(await pageOverflow(page)).toBeLessThanOrEqual(0);
      await shot(page, `finance-fx-currency-${width}`);
    }

    // The missing-day sentence at a phone's width: a day of another currency's money without a rate.
    await t.http
      .put('/api/finance/fx-rates')
      .set(admin())
      .send({ date: d1, rates: { eur: '1.0799' } })
      .expect(200);
    await inUsd(() => page.reload());
    await poll(() => alert.textContent()).toContain(`is stored for ${d1} (UTC)`);
    expect(await pageOverflow(page)).toBeLessThanOrEqual(0);
    await shot(page, 'finance-fx-missing-375');
    // The 422s are Chromium's own lines for the answers the page turned into sentences; nothing else.
    expect(errors.filter((e) => !/status of 422/.test(e))).toEqual([]);
    expect(errors.length).toBeGreaterThan(0);
  }, 120_000);

  it('waits out the service’s 429 for its heavy reads, then shows the figures', async () => {
    const { page } = await served.open();
    let refused = 0;
    page.on('response', (res) => {
      if (/\/api\/finance\/(rollforward|liability)/.test(res.url()) && res.status() === 429) refused += 1;
    });
    await page.setViewportSize({ width: 1280, height: 900 });
    await served.signIn(page, token({ sub: adminId, role: 'admin' }));
    await page.goto(`${served.baseUrl}/admin/finance`);
    await poll(() => page.getByLabel('Liability now', { exact: true }).textContent()).toBe('10.00 USD');

    // Both heavy-read slots taken by two reads of the ledger that wait behind a lock held here, so the
    // roll-forward and liability the page asks for meanwhile are refused 429 HEAVY_READS_BUSY.
    const unlock = await lockTheLedger();
    const held: Promise<number>[] = [];
    try {
      for (let i = 0; i < 2; i++)
        held.push(
          t.http
            .get('/api/finance/liability')
            .query({ currency: 'usd', limit: 1 })
            .set(admin())
            .then((res) => res.status),
        );
      await poll(() => waitingOnTheLock()).toBe(2);
      const busy = await t.http.get('/api/finance/liability').query({ currency: 'usd', limit: 1 }).set(admin());
      expect([busy.status, busy.body.code, busy.body.retryAfter, busy.body.message]).toEqual([
        429,
        'HEAVY_READS_BUSY',
        5,
        BUSY.message,
      ]);

      await page.getByLabel('Currency').fill('eur');
      await page.getByLabel('Currency').press('Enter');
      await poll(() => refused).toBeGreaterThanOrEqual(2);
      // Refused, and waiting to ask again: no refusal on the page.
      expect(await page.getByText(BUSY.message).count()).toBe(0);
      await unlock();
      expect(await Promise.all(held)).toEqual([200, 200]);
    } finally {
      await unlock();
      await Promise.allSettled(held);
    }
    // Asked again when the service said (5 s later): the figures, and no refusal shown.
    await poll(() => page.getByLabel('Liability now', { exact: true }).textContent()).toBe('25.00 EUR');
    expect(await page.getByLabel('Closing liability', { exact: true }).textContent()).toBe('25.00 EUR');
    expect(await page.getByText(BUSY.message).count()).toBe(0);
    await shot(page, 'finance-after-busy');
  }, 120_000);

  it('a heavy read that waited out DB_LOCK_TIMEOUT_MS is a 503 to retry, not a 500', async () => {
    const unlock = await lockTheLedger();
    try {
      const res = await t.http.get('/api/finance/liability').query({ currency: 'usd', limit: 1 }).set(admin());
      expect([res.status, res.body.message]).toEqual([503, 'Busy, please retry']);
      expect(JSON.stringify(res.body)).not.toMatch(/credit_ledger|lock timeout|\bat /);
    } finally {
      await unlock();
    }
  }, 60_000);
});
