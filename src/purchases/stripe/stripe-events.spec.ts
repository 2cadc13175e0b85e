import { describe, expect, it } from 'vitest';

import { stripeAction } from './stripe-events.js';

const PURCHASE = '7e0b6c1a-3f52-4d8e-9a61-2c4b5d6e7f80';
const event = (type: string, object: Record<string, unknown>) => ({ id: 'evt_1', type, data: { object } });

describe('stripeAction', () => {
  it('finds the purchase by client_reference_id, else metadata.purchaseId, and pays only a paid session', () => {
    expect(
      stripeAction(
        event('checkout.session.completed', {
          client_reference_id: PURCHASE,
          payment_status: 'paid',
          payment_intent: 'pi_1',
          amount_total: 1000,
          currency: 'usd',
        }),
      ),
    ).toEqual({
      action: 'paid',
      purchaseId: PURCHASE,
      paymentIntent: 'pi_1',
      paid: { stripeAmount: 1000, currency: 'usd' },
    });
    expect(
      stripeAction(
        event('checkout.session.async_payment_succeeded', {
          client_reference_id: null,
          metadata: { purchaseId: PURCHASE },
          payment_status: 'paid',
          payment_intent: { id: 'pi_2', object: 'payment_intent' },
          amount_total: 500,
          currency: 'JPY',
        }),
      ),
    ).toEqual({
      action: 'paid',
      purchaseId: PURCHASE,
      paymentIntent: 'pi_2',
      paid: { stripeAmount: 500, currency: 'jpy' },
    });
    // A paid session must say what it charged (and through which payment intent), else nothing is paid.
    expect(
      stripeAction(
        event('checkout.session.completed', {
          client_reference_id: PURCHASE,
          payment_status: 'paid',
          payment_intent: 'pi_3',
        }),
      ),
    ).toMatchObject({ action: 'ignore' });
    expect(
      stripeAction(event('checkout.session.completed', { client_reference_id: PURCHASE, payment_status: 'unpaid' })),
    ).toMatchObject({ action: 'ignore' });
    expect(
      stripeAction(event('checkout.session.completed', { client_reference_id: 'not-ours', payment_status: 'paid' })),
    ).toMatchObject({ action: 'ignore' });
    expect(stripeAction(event('checkout.session.async_payment_failed', { client_reference_id: PURCHASE }))).toEqual({
      action: 'fail',
      purchaseId: PURCHASE,
    });
    expect(stripeAction(event('checkout.session.expired', { client_reference_id: PURCHASE }))).toEqual({
      action: 'expire',
      purchaseId: PURCHASE,
    });
  });

  it('maps charges and disputes by their payment intent', () => {
    expect(
      stripeAction(event('charge.refunded', { payment_intent: 'pi_1', amount_refunded: 400, currency: 'usd' })),
    ).toEqual({ action: 'provider', paymentIntent: 'pi_1', event: { type: 'refunded', amountRefunded: '4.00' } });
    expect(
      stripeAction(event('charge.refunded', { payment_intent: 'pi_1', amount_refunded: 500, currency: 'KWD' })),
    ).toEqual({ action: 'provider', paymentIntent: 'pi_1', event: { type: 'refunded', amountRefunded: '0.500' } });
    expect(
      stripeAction(event('charge.refunded', { payment_intent: 'pi_1', amount_refunded: 1.5, currency: 'usd' })),
    ).toMatchObject({ action: 'ignore' });
    // 5.50 isk: a fraction of a krona, which ISO 4217 gives no places
    expect(
      stripeAction(event('charge.refunded', { payment_intent: 'pi_1', amount_refunded: 550, currency: 'isk' })),
    ).toMatchObject({ action: 'ignore' });
    expect(stripeAction(event('charge.dispute.created', { payment_intent: 'pi_1', status: 'needs_response' }))).toEqual(
      {
        action: 'provider',
        paymentIntent: 'pi_1',
        event: { type: 'dispute_opened' },
      },
    );
    for (const [status, type] of [
      ['won', 'dispute_won'],
      ['warning_closed', 'dispute_won'],
      ['lost', 'dispute_lost'],
    ]) {
      expect(stripeAction(event('charge.dispute.closed', { payment_intent: 'pi_1', status }))).toEqual({
        action: 'provider',
        paymentIntent: 'pi_1',
        event: { type },
      });
    }
    expect(
      stripeAction(event('charge.dispute.closed', { payment_intent: 'pi_1', status: 'under_review' })),
    ).toMatchObject({ action: 'ignore' });
    expect(stripeAction(event('charge.dispute.created', { payment_intent: null }))).toMatchObject({ action: 'ignore' });
  });

  it('ignores every other type', () => {
    expect(stripeAction(event('invoice.paid', {}))).toEqual({
      action: 'ignore',
      reason: 'event type invoice.paid is not used',
    });
  });
});
