import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CreditLedgerDaysJob } from '../src/finance/feed/credit-ledger-days.job.js';
import { CreditExpiryJob } from '../src/plans/credit-expiry.job.js';
import { bearer, startTestApp, type TestApp } from './support/app.js';
import { freezeClock } from './support/clock.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { until } from './support/until.js';

const admin = bearer(tokenFor('admin', 'days-admin'));
const DAY = 86_400_000;

/**
 * The roll-forward's sums by day (docs/finance.md "The sums by day"), over HTTP on a database of their
 * own: every answer read with the sums equals, to the minor unit and the credit, the one read from
 * every line without them (an empty cover), including after lines land in days the sums already
 * hold (an expiry booked days back, metering since) and for a line whose transaction was still open
 * while the sums were taken.
 */
describe('finance: the roll-forward from the sums by day', () => {
  let own: OwnDatabase;
  let t: TestApp;
  let f: Fixtures;
  let a: FixtureUser;
  let b: FixtureUser;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const from = day(Date.now() - 5 * DAY);
  const to = day(Date.now() + 2 * DAY);

  beforeAll(async () => {
    own = await ownDatabase('ledger_days');
    t = await startTestApp({ DATABASE_URL: own.url, JOBS_ENABLED: 'false' });
    // The service's clock stands still: a read never finds the sums a minute old and fills them itself.
    freezeClock(t);
    f = new Fixtures(t, { prefix: 'ld' });
    a = await f.newUser({ credits: { credits: 50, expiryDays: 60 } }); // promotional, spent last
    await valued(a, 1000, { amount: '10.00', currency: 'usd' });
    b = await f.newUser({ credits: { credits: 7, expiryDays: 60 } });
    await valued(b, 3, { amount: '1000', currency: 'jpy' });
    await record(a, 333);
    await record(b, 1);
  });
  afterAll(async () => {
    await t?.close();
    await own?.drop();
  });

  /** A valued allocation (its `value`), made as an admin's grant; answers its id. */
  const valued = async (user: FixtureUser, credits: number, value: { amount: string; currency: string }) =>
    ((await f.allocate(user.id, { credits, value }).expect(201)).body as { id: string }).id;
  const record = (user: FixtureUser, credits: number) =>
    t.http
      .post('/api/usage/record')
      .set(user.auth)
      .send({ service: 'chat', operation: 'completion', credits })
      .expect(201);

  /** Every shape of the roll-forward that sums all accounts, as answered now. */
  async function answers(): Promise<unknown[]> {
    const got: unknown[] = [];
    for (const currency of ['usd', 'jpy']) {
      for (const query of [{ interval: 'day' }, { interval: 'month' }, { interval: 'day', groupBy: 'account' }]) {
        const res = await t.http
          .get('/api/finance/rollforward')
          .query({ currency, from, to, ...query })
          .set(admin)
          .expect(200);
        got.push(res.body);
      }
      const csv = await t.http
        .get('/api/finance/rollforward')
        .query({ currency, from, to, interval: 'day', format: 'csv' })
        .set(admin)
        .expect(200);
      got.push(csv.text);
    }
    return got;
  }

  /** The answers with no sums at all: every line read, as before the sums existed (a fresh cover, so no read fills them). */
  async function fromEveryLine(): Promise<unknown[]> {
    await t.db.query(`DELETE FROM credit_ledger_days`);
    await t.db.query(
      `UPDATE credit_ledger_days_filled SET up_to_xid = 0, up_to_id = 0, filled_at = now() + interval '1 day'`,
    );
    return answers();
  }

  const cover = async () =>
    (
      await t.db.query<{ xid: string; id: string; days: number }>(
        `SELECT up_to_xid::text AS xid, up_to_id::text AS id, (SELECT count(*)::int FROM credit_ledger_days) AS days
           FROM credit_ledger_days_filled`,
      )
    ).rows[0];
  const lastLine = async () =>
    (await t.db.query<{ id: string }>(`SELECT max(id)::text AS id FROM credit_ledger`)).rows[0].id;

  it('answers the same from the sums as from every line, to the minor unit', async () => {
    const without = await fromEveryLine();
    expect(await cover()).toMatchObject({ id: '0', days: 0 });
    await t.app.get(CreditLedgerDaysJob).fill();
    expect(await cover()).toMatchObject({ id: await lastLine() });
    // A fill sums the lines below the cluster's oldest running transaction: one of another database's
    // (the suite's shared one), begun before these lines, keeps them for a later fill until it ends.
    await until(
      'a fill sums the lines',
      async () => {
        await t.app.get(CreditLedgerDaysJob).fill();
        return (await cover()).days > 0;
      },
      30_000,
      50,
    );
    const withDays = await answers();
    expect(withDays).toEqual(without);
    // A figure the lines make, so equal answers mean something: 333 of 1,000 credits for 10.00.
    expect(without[0]).toMatchObject({ totals: { sold: '10.00', recognized: '3.33', closing: '6.67' } });
    expect(without[4]).toMatchObject({ totals: { sold: '1000', recognized: '333', closing: '667' } });
  });

  it('lines landing in days the sums hold are read beside them: an expiry booked days back, metering since', async () => {
    await t.app.get(CreditLedgerDaysJob).fill();
    const filled = await cover();
    // b's jpy lot expires two days ago: its expire line is written now and booked then.
    const lot = await valued(b, 9, { amount: '90', currency: 'jpy' });
    await t.db.query(`UPDATE credit_allocations SET expires_at = now() - interval '2 days' WHERE id = $1`, [lot]);
    await t.app.get(CreditExpiryJob).expireDue();
    await record(a, 17);
    const withDays = await answers();
    expect(await cover()).toEqual(filled); // read within a minute of the fill: the new lines were read live
    const without = await fromEveryLine();
    expect(withDays).toEqual(without);
    // jpy by day as CSV, the row of all accounts two days back: expired (the 10th column) is the lot's 90.
    const rows = (without[7] as string).split('\r\n');
    const twoDaysBack = rows.find((row) => row.startsWith(`,,${day(Date.now() - 2 * DAY)}T`));
    expect(twoDaysBack?.split(',')[9]).toBe('90');
    await t.app.get(CreditLedgerDaysJob).fill();
    expect(await answers()).toEqual(without);
  });

  it('a line whose transaction was open while the sums were taken is read beside them once committed', async () => {
    await t.app.get(CreditLedgerDaysJob).fill();
    const open = new pg.Client({ connectionString: own.url });
    await open.connect();
    try {
      await open.query('BEGIN');
      await open.query(
        `SELECT id FROM credits_grant((SELECT account_id FROM accounts WHERE user_id = $1), 40, 'days-test', now() + interval '30 days', NULL,
                'manual', NULL, NULL, NULL, false, NULL, NULL, 400, 'usd')`,
        [a.id],
      );
      const [{ xid }] = (await open.query<{ xid: string }>(`SELECT txid_current()::text AS xid`)).rows;
      // Committed lines after it (another account: a's is locked by the open grant), so the highest
      // line id is past the open grant's, and only its transaction id keeps it out of the sums.
      await record(b, 1);
      await record(b, 1);
      await t.app.get(CreditLedgerDaysJob).fill();
      const filled = await cover();
      expect(BigInt(filled.xid)).toBeLessThanOrEqual(BigInt(xid));
      expect(filled.id).toBe(await lastLine());
      await open.query('COMMIT');
    } finally {
      await open.end();
    }
    const withDays = await answers();
    const without = await fromEveryLine();
    expect(withDays).toEqual(without);
    expect((without[0] as { totals: { sold: string } }).totals.sold).toBe('14.00');
  });
});
