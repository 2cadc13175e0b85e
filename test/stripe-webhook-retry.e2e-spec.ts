import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { DomainError } from '../src/common/errors/domain-error.js';
import { PurchasesService } from '../src/purchases/purchases.service.js';
import { StripeWebhookService } from '../src/purchases/stripe/stripe-webhook.service.js';
import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';

/**
 * The Stripe webhook ignored (200, the event id kept, never applied) any refusal answered 400, 404 or
 * 409, so a transient one, an `IDEMPOTENCY_IN_FLIGHT` while the purchase was being paid by the
 * platform's own call, swallowed the paid event for good: Stripe's redelivery was a "duplicate" and the
 * credits were never granted. It now classifies by code (`EVENT_DOES_NOT_APPLY`): such a refusal fails
 * the delivery, keeps no event id, and the redelivery applies it.
 */
describe('Stripe webhook: which refusals ignore an event', () => {
  let t: TestApp;
  let f: Fixtures;
  const service = bearer(tokenFor('admin', 'stripe-retry-service'));

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users: [], prefix: 'swr' });
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await t.close();
  });

  const paidEvent = (purchaseId: string) => ({
    id: uniqueId('evt_'),
    type: 'checkout.session.completed',
    data: {
      object: {
        id: uniqueId('cs_test_'),
        object: 'checkout.session',
        amount_total: 1000,
        currency: 'usd',
        client_reference_id: purchaseId,
        metadata: {},
        payment_intent: uniqueId('pi_'),
        payment_status: 'paid',
        status: 'complete',
      },
    },
  });
  const purchase = async () => {
    const u = await f.newUser();
    const res = await t.http
      .post('/api/purchases')
      .set(service)
      .send({ userId: u.id, credits: 100, amount: '10.00', currency: 'usd', provider: 'stripe' })
      .expect(201);
    return res.body.id as string;
  };
  const claimed = async (eventId: string) =>
    (await t.db.query(`SELECT 1 FROM purchase_provider_events WHERE event_id = $1`, [eventId])).rowCount;
  const status = async (id: string) =>
    (await t.db.query<{ status: string }>(`SELECT status FROM purchases WHERE id = $1`, [id])).rows[0].status;

  it('a transient refusal (a 409 of another code) fails the delivery; the redelivery pays', async () => {
    const webhook = t.app.get(StripeWebhookService);
    const id = await purchase();
    const event = paidEvent(id);
    vi.spyOn(t.app.get(PurchasesService), 'markPaid').mockRejectedValueOnce(
      new DomainError('IDEMPOTENCY_IN_FLIGHT', 'A request with this Idempotency-Key is in progress'),
    );
    await expect(webhook.handle(event)).rejects.toMatchObject({ code: 'IDEMPOTENCY_IN_FLIGHT' });
    expect(await claimed(event.id)).toBe(0);
    expect(await status(id)).toBe('pending_payment');

    expect(await webhook.handle(event)).toEqual({ outcome: 'applied' });
    expect(await status(id)).toBe('paid');
    expect(await webhook.handle(event)).toEqual({ outcome: 'duplicate' });
  });

  it('a refusal that means the event does not apply is still ignored, and kept', async () => {
    const webhook = t.app.get(StripeWebhookService);
    const id = await purchase();
    await t.http.post(`/api/purchases/${id}/expire`).set(service).send({}).expect(200);
    const event = paidEvent(id);
    expect(await webhook.handle(event)).toEqual({ outcome: 'ignored', reason: 'PURCHASE_NOT_PAYABLE' });
    expect(await claimed(event.id)).toBe(1);
    expect(await status(id)).toBe('expired');
  });
});
