import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { deliverStripe, paidSession, refundedCharge, STRIPE_SECRET, stripeEvent } from './support/stripe.js';

const ROUTE = '/api/finance/reconciliations';
/** Only the required columns, so 200,001 rows stay under the 20 MB body limit. */
const HEADER =
  'balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,payment_intent_id,automatic_payout_id';

/**
 * Large reconciliation reports (docs/reconciliation.md): a generated report of 150,000 rows
 * (100,000 charges and 40,000 refunds of one purchase, 10,000 fees) is read and matched, its
 * results exact; 200,001 rows → 400 REPORT_TOO_LARGE and nothing written. Results are asserted, not
 * times: grouping a purchase's refund rows was quadratic and the charge span overflowed the stack.
 */
describe('W4: reconciliation reads large reports in linear time, at most 200,000 rows', () => {
  let t: TestApp;
  let f: Fixtures;
  const admin = bearer(tokenFor('admin', 'finance-large-admin'));

  let own: OwnDatabase;

  // A database of its own: `missing` lists every Stripe purchase paid within the report's time span,
  // and other spec files pay theirs on the shared database at the same time.
  beforeAll(async () => {
    own = await ownDatabase('rcl_large');
    t = await startTestApp({ DATABASE_URL: own.url, STRIPE_WEBHOOK_SECRET: STRIPE_SECRET });
    f = new Fixtures(t, { prefix: 'rcl' });
  });
  afterAll(async () => {
    await t?.close();
    await own?.drop();
  });

  const upload = (csv: string) => t.http.post(ROUTE).set(admin).set('Content-Type', 'text/csv').send(csv);
  const count = async () => Number((await t.db.query(`SELECT count(*) AS n FROM finance_reconciliations`)).rows[0].n);

  it('reads 150,000 rows and matches them exactly', async () => {
    const u = await f.newUser();
    const created = await t.http
      .post('/api/purchases')
      .set(admin)
      .send({ userId: u.id, credits: 1000, amount: '10.00', currency: 'usd', provider: 'stripe' })
      .expect(201);
    const session = paidSession(created.body.id, 1000);
    await deliverStripe(t, stripeEvent('checkout.session.completed', session));
    await deliverStripe(t, stripeEvent('charge.refunded', refundedCharge(session.payment_intent, 1000, 400)));
    const purchase = (await t.http.get(`/api/purchases/${created.body.id}`).set(admin).expect(200)).body;
    expect(purchase).toMatchObject({ status: 'partially_refunded', refundedAmount: '4.00' });
    const pi = session.payment_intent as string;
    const paid = new Date(purchase.paidAt as string).getTime();
    const utc = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
    const payouts = [uniqueId('po_'), uniqueId('po_'), uniqueId('po_')];
    const run = uniqueId('');
    const lines = [HEADER];
    for (let i = 0; i < 150_000; i++) {
      const txn = `txn_${run}_${i}`;
      const payout = payouts[i % 3];
      // charges around the purchase's payment (its own second first), spread over a minute before it
      if (i < 100_000) lines.push(`${txn},${utc(paid - (i % 60) * 1000)},usd,10.00,0.59,9.41,charge,${pi},${payout}`);
      // its refund rows: 400 of -0.01 and the rest -0.00, together the 4.00 refunded
      else if (i < 140_000)
        lines.push(`${txn},${utc(paid)},usd,${i < 100_400 ? '-0.01' : '-0.00'},0.00,0.00,refund,${pi},${payout}`);
      else lines.push(`${txn},${utc(paid)},usd,-0.25,0.00,-0.25,fee,,${payout}`);
    }
    const res = await upload(lines.join('\n')).expect(201);
    expect(res.body).toMatchObject({ rows: 150_000, matched: 140_000, mismatched: [], unknown: [], missing: [] });
    expect([...res.body.payouts].sort()).toEqual([...payouts].sort());
  });

  it('refuses 200,001 rows with 400 REPORT_TOO_LARGE, writing nothing', async () => {
    const before = await count();
    const lines = [HEADER];
    const run = uniqueId('');
    for (let i = 0; i < 200_001; i++) lines.push(`t${run}${i},2026-11-24 12:00:00,usd,-0.25,0.00,-0.25,fee,,po_1`);
    const res = await upload(lines.join('\n')).expect(400);
    expect(res.body).toMatchObject({ code: 'REPORT_TOO_LARGE', maxRows: 200_000 });
    expect(await count()).toBe(before);
    // 200,000 rows are a report
    const fits = await upload(lines.slice(0, 200_001).join('\n')).expect(201);
    expect(fits.body).toMatchObject({ rows: 200_000, matched: 0 });
  });
});
