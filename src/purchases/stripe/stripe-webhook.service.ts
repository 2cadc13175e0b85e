import { Inject, Injectable } from '@nestjs/common';

import { DomainError, type DomainErrorCode } from '../../common/errors/domain-error.js';
import { Transactions } from '../../database/transactions.js';
import { PurchaseRefundsService } from '../purchase-refunds.service.js';
import { PurchasesRepository } from '../purchases.repository.js';
import { type PurchaseActor, PurchasesService } from '../purchases.service.js';
import { fromStripeAmount, toStripeAmount } from './stripe-amounts.js';
import { stripeAction, type StripeEventLike } from './stripe-events.js';

const STRIPE: PurchaseActor = { createdBy: 'stripe', system: { actorUserId: 'stripe', actorVia: 'webhook' } };

/**
 * The refusals that mean an event does not apply to its purchase as it stands: the purchase is not
 * there, or in a state the event cannot change (a late `expired` after paid, a refund beyond what is
 * refundable, a payment that paid another purchase already). Such an event is answered 200 and ignored, for good. Chosen by code, not by HTTP
 * status: a transient refusal that happens to be a 409 (`IDEMPOTENCY_IN_FLIGHT`), or a code whose
 * status changes one day, must not swallow an event; it fails the request and Stripe delivers it again.
 */
export const EVENT_DOES_NOT_APPLY: ReadonlySet<DomainErrorCode> = new Set<DomainErrorCode>([
  'NOT_FOUND',
  'PURCHASE_NOT_PAYABLE',
  'PURCHASE_NOT_PENDING',
  'PURCHASE_NOT_PAID',
  'REFUND_EXCEEDS_REFUNDABLE',
  'PURCHASE_EXISTS',
  'AUTO_RECHARGE_ATTEMPT_CLOSED',
  'VALIDATION',
]);

export const doesNotApply = (error: unknown): error is DomainError =>
  error instanceof DomainError && EVENT_DOES_NOT_APPLY.has(error.code);

/** What the webhook did with an event (answered with 200 in every case: Stripe must not resend it). */
export type StripeOutcome = 'applied' | 'duplicate' | 'ignored';

/**
 * A verified Stripe event applied to its purchase once: its id is claimed in the transaction that
 * applies it, so a redelivery (or two deliveries at once) changes nothing. An event that does not
 * apply (unknown purchase, a state it cannot change) is still claimed and answered 200, ignored.
 */
@Injectable()
export class StripeWebhookService {
  constructor(
    private readonly repo: PurchasesRepository,
    @Inject(PurchasesService) private readonly purchases: PurchasesService,
    @Inject(PurchaseRefundsService) private readonly refunds: PurchaseRefundsService,
    @Inject(Transactions) private readonly tx: Transactions,
  ) {}

  async handle(event: StripeEventLike): Promise<{ outcome: StripeOutcome; reason?: string }> {
    const mapped = stripeAction(event);
    try {
      return await this.tx.run(async (manager) => {
        const purchaseId =
          mapped.action === 'ignore'
            ? null
            : mapped.action === 'provider'
              ? await this.repo.idByPayment(manager, 'stripe', mapped.paymentIntent)
              : mapped.purchaseId;
        const claim = { provider: 'stripe', eventId: event.id, type: event.type, purchaseId };
        if (!(await this.repo.claimEvent(manager, claim))) return { outcome: 'duplicate' as const };
        if (mapped.action === 'ignore') return { outcome: 'ignored' as const, reason: mapped.reason };
        if (purchaseId === null) return { outcome: 'ignored' as const, reason: 'no purchase has this payment_intent' };
        // Stripe's events change Stripe's purchases only: a session naming the id of a purchase of
        // another provider (made to be paid elsewhere, or not at all) grants nothing.
        const row = await this.repo.find(manager, purchaseId);
        if (row && row.provider !== 'stripe') {
          return { outcome: 'ignored' as const, reason: `purchase of provider ${row.provider}, not stripe` };
        }
        switch (mapped.action) {
          case 'paid': {
            // A session pays this purchase only for its amount in its currency: a Checkout Session or
            // Payment Link of another price naming the purchase's id grants nothing.
            // Compared in Stripe's unit: a purchase Stripe cannot charge exactly (1.005 kwd) is never paid.
            const { stripeAmount, currency } = mapped.paid;
            if (row && (row.currency !== currency || toStripeAmount(row.amount, row.currency) !== stripeAmount)) {
              const paid = fromStripeAmount(stripeAmount, currency) ?? `${stripeAmount} (Stripe's unit)`;
              return {
                outcome: 'ignored' as const,
                reason: `paid ${paid} ${currency}, not the purchase's ${row.amount} ${row.currency}`,
              };
            }
            await this.purchases.markPaid(STRIPE, purchaseId, mapped.paymentIntent);
            break;
          }
          case 'fail':
          case 'expire':
            await this.purchases.close(STRIPE, purchaseId, mapped.action === 'fail' ? 'failed' : 'expired', 'stripe');
            break;
          case 'provider':
            await this.refunds.providerEvent(STRIPE, purchaseId, mapped.event);
        }
        return { outcome: 'applied' as const };
      });
    } catch (error) {
      // Nothing changed; the id of an event that does not apply is kept so a redelivery is answered the same.
      if (!doesNotApply(error)) throw error;
      const claimed = await this.tx.run((manager) =>
        this.repo.claimEvent(manager, { provider: 'stripe', eventId: event.id, type: event.type, purchaseId: null }),
      );
      return claimed ? { outcome: 'ignored', reason: error.code } : { outcome: 'duplicate' };
    }
  }
}
