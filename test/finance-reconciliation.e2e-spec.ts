import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { deliverStripe, dispute, paidSession, refundedCharge, STRIPE_SECRET, stripeEvent } from './support/stripe.js';

const ROUTE = '/api/finance/reconciliations';
const HEADER =
  'automatic_payout_id,automatic_payout_effective_at,balance_transaction_id,created_utc,created,currency,gross,' +
  'fee,net,reporting_category,source_id,description,payment_intent_id,charge_id';

/** One row of Stripe's itemized report, in HEADER's column order (created_utc as Stripe writes it). */
function row(r: {
  payout: string;
  txn: string;
  at: string;
  gross: string;
  fee: string;
  category: string;
  pi?: string;
}) {
  const utc = r.at.slice(0, 19).replace('T', ' ');
  const net = ((Math.round(Number(r.gross) * 100) - Math.round(Number(r.fee) * 100)) / 100).toFixed(2);
  return [
    r.payout,
    utc,
    r.txn,
    utc,
    utc,
    'usd',
    r.gross,
    r.fee,
    net,
    r.category,
    `ch_${r.txn}`,
    '"Credits, 1,000"',
    r.pi ?? '',
    '',
  ].join(',');
}

describe('reconciling Stripe payouts with the purchases', () => {
  let t: TestApp;
  let f: Fixtures;
  const admin = bearer(tokenFor('admin', 'finance-admin'));
  const supervisor = bearer(tokenFor('supervisor', 'finance-supervisor'));

  beforeAll(async () => {
    t = await startTestApp({ STRIPE_WEBHOOK_SECRET: STRIPE_SECRET });
    f = new Fixtures(t, { prefix: 'rc' });
  });
  afterAll(() => t.close());

  /** A Stripe purchase of 1,000 credits for 10.00 usd, paid by a signed Checkout Session event. */
  async function paidPurchase() {
    const u = await f.newUser();
    const created = await t.http
      .post('/api/purchases')
      .set(admin)
      .send({ userId: u.id, credits: 1000, amount: '10.00', currency: 'usd', provider: 'stripe' })
      .expect(201);
    const session = paidSession(created.body.id, 1000);
    await deliverStripe(t, stripeEvent('checkout.session.completed', session));
    const purchase = (await t.http.get(`/api/purchases/${created.body.id}`).set(admin).expect(200)).body;
    expect(purchase).toMatchObject({ status: 'paid', providerPaymentId: session.payment_intent });
    return { id: purchase.id as string, pi: session.payment_intent, paidAt: purchase.paidAt as string, user: u };
  }

  const upload = (csv: string, auth = admin) => t.http.post(ROUTE).set(auth).set('Content-Type', 'text/csv').send(csv);

  it('matches every charge, refund and lost dispute; names the unknown row and the purchase no row covers', async () => {
    const plain = await paidPurchase();
    const refunded = await paidPurchase();
    const left = await paidPurchase(); // paid between the others, never in the report
    const disputed = await paidPurchase();
    const short = await paidPurchase();
    await deliverStripe(t, stripeEvent('charge.refunded', refundedCharge(refunded.pi, 1000, 400)));
    await deliverStripe(t, stripeEvent('charge.dispute.created', dispute(disputed.pi, 1000, 'needs_response')));
    await deliverStripe(t, stripeEvent('charge.dispute.closed', dispute(disputed.pi, 1000, 'lost')));
    expect((await t.http.get(`/api/purchases/${disputed.id}`).set(admin)).body.status).toBe('charged_back');
    expect((await t.http.get(`/api/purchases/${refunded.id}`).set(admin)).body.refundedAmount).toBe('4.00');

    const payout = uniqueId('po_');
    const txn = () => uniqueId('txn_');
    const unknownTxn = txn();
    const shortTxn = txn();
    const lines = [
      HEADER,
      row({ payout, txn: txn(), at: plain.paidAt, gross: '10.00', fee: '0.59', category: 'charge', pi: plain.pi }),
      row({
        payout,
        txn: txn(),
        at: refunded.paidAt,
        gross: '10.00',
        fee: '0.59',
        category: 'charge',
        pi: refunded.pi,
      }),
      // the provider's 4.00 refunded in two parts: together they match
      row({
        payout,
        txn: txn(),
        at: refunded.paidAt,
        gross: '-1.50',
        fee: '0.00',
        category: 'refund',
        pi: refunded.pi,
      }),
      row({
        payout,
        txn: txn(),
        at: refunded.paidAt,
        gross: '-2.50',
        fee: '0.00',
        category: 'refund',
        pi: refunded.pi,
      }),
      row({
        payout,
        txn: txn(),
        at: disputed.paidAt,
        gross: '10.00',
        fee: '0.59',
        category: 'charge',
        pi: disputed.pi,
      }),
      row({
        payout,
        txn: txn(),
        at: disputed.paidAt,
        gross: '-10.00',
        fee: '15.00',
        category: 'dispute',
        pi: disputed.pi,
      }),
      row({ payout, txn: shortTxn, at: short.paidAt, gross: '9.00', fee: '0.56', category: 'charge', pi: short.pi }),
      row({
        payout,
        txn: unknownTxn,
        at: plain.paidAt,
        gross: '25.00',
        fee: '1.03',
        category: 'charge',
        pi: 'pi_nobody_knows',
      }),
      row({ payout, txn: txn(), at: short.paidAt, gross: '-2.00', fee: '0.00', category: 'fee' }),
      row({ payout, txn: txn(), at: short.paidAt, gross: '-30.72', fee: '0.00', category: 'payout' }),
    ];
    const csv = `${lines.join('\r\n')}\r\n`;

    const first = await upload(csv).expect(201);
    expect(first.body).toMatchObject({
      payouts: [payout],
      rows: 10,
      matched: 6,
      mismatched: [
        { balanceTransactionId: shortTxn, category: 'charge', purchaseId: short.id, expected: '10.00', got: '9.00' },
      ],
      unknown: [
        { balanceTransactionId: unknownTxn, category: 'charge', gross: '25.00', paymentIntentId: 'pi_nobody_knows' },
      ],
    });
    // Specs share the database: purchases of other specs paid meanwhile may be missing too, ours are exact.
    const ours = new Set([plain.id, refunded.id, left.id, disputed.id, short.id]);
    const missing = (first.body.missing as Array<{ purchaseId: string }>).filter((m) => ours.has(m.purchaseId));
    expect(missing).toEqual([{ purchaseId: left.id, amount: '10.00', paidAt: left.paidAt }]);

    // The same report again: the same reconciliation, no second one, one audit entry.
    const again = await upload(csv).expect(200);
    expect(again.body).toEqual(first.body);
    expect((await t.http.get(`${ROUTE}/${first.body.id}`).set(supervisor).expect(200)).body).toEqual(first.body);
    const list = await t.http.get(ROUTE).set(supervisor).query({ limit: 500 }).expect(200);
    expect(list.body.items.filter((r: { id: string }) => r.id === first.body.id)).toEqual([first.body]);
    const audit = await t.db.query(`SELECT action, actor_user_id FROM audit_log WHERE target_id = $1`, [first.body.id]);
    expect(audit.rows).toEqual([{ action: 'finance.reconciliation.create', actor_user_id: 'finance-admin' }]);
  });

  it('refuses a report without the required columns (named), invalid CSV or rows, and other bodies', async () => {
    const noIntent = await upload(
      'balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category\n',
    ).expect(400);
    expect(noIntent.body.message).toBe('The report lacks the required columns: payment_intent_id, automatic_payout_id');
    const broken = await upload(`${HEADER}\npo_1,"unclosed,txn_1\n`).expect(400);
    expect(broken.body.message).toMatch(/not valid CSV/);
    const badAmount = await upload(
      `${HEADER}\n${row({ payout: 'po_1', txn: 'txn_1', at: '2026-11-01T00:00:00Z', gross: 'ten', fee: '0', category: 'charge' })}\n`,
    ).expect(400);
    expect(badAmount.body.message).toMatch(/^Line 2 of the report: gross "ten" is not an amount/);
    await t.http.post(ROUTE).set(admin).send({ report: 'x' }).expect(400);
    await t.http.post(ROUTE).set(admin).set('Content-Type', 'text/plain').send('a,b\n').expect(415);
    expect(await t.db.query(`SELECT 1 FROM finance_reconciliations WHERE created_by = 'nobody'`)).toMatchObject({
      rowCount: 0,
    });
  });

  it('is for admins to upload, for supervisors and admins to read', async () => {
    await upload(`${HEADER}\n`, supervisor).expect(403);
    const user = await f.newUser();
    await t.http.get(ROUTE).set(user.auth).expect(403);
    await t.http
      .get(`${ROUTE}/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`)
      .set(supervisor)
      .expect(404);
    await t.http.get(ROUTE).expect(401);
  });
});
