import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { AuditService } from '../audit/audit.service.js';
import { DomainError } from '../common/errors/domain-error.js';
import { fromMinor, minorUnits, toMinor } from '../common/money/currencies.js';
import { Transactions } from '../database/transactions.js';
import { CreditLotsService } from '../engine/credit-lots.service.js';
import { EventsService } from '../events/events.service.js';
import { creditsForRefund, placesFit } from './purchase-money.js';
import { PAID_STATUSES, type ProviderEventType, type PurchaseStatus } from './purchase-status.js';
import {
  accountOf,
  grantedCredits,
  type PurchaseView,
  refundableCredits,
  refundedMinor,
  type RefundView,
  toPurchaseView,
  toRefundView,
} from './purchase-views.js';
import { type PurchaseChange, type PurchaseRow, PurchasesRepository } from './purchases.repository.js';
import { type PurchaseActor, PurchasesService } from './purchases.service.js';

/**
 * Taking a paid purchase's credits back (docs/purchases.md "Taking credits back"): an admin's refund (only what
 * its allocation still has), the provider's refunds (cumulative: the spent part becomes debt), and
 * disputes (freeze; won: unfreeze; lost: take everything back, the spent part as debt). Each in one
 * transaction, the purchase row locked first, the credits moved by the engine under the account lock.
 */
@Injectable()
export class PurchaseRefundsService {
  constructor(
    private readonly repo: PurchasesRepository,
    @Inject(PurchasesService) private readonly purchases: PurchasesService,
    @Inject(CreditLotsService) private readonly credits: CreditLotsService,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(EventsService) private readonly events: EventsService,
    @Inject(AuditService) private readonly audit: AuditService,
  ) {}

  /** An admin's refund of `credits` (default: all refundable) from the allocation; the platform pays `amount` back. */
  refund(actor: PurchaseActor, id: string, body: { credits?: number; reason?: string }): Promise<RefundView> {
    return this.tx.run(async (manager) => {
      const row = await this.purchases.locked(manager, id);
      const allocation = PAID_STATUSES.includes(row.status)
        ? await this.credits.purchaseAllocation(manager, row.id)
        : null;
      const refundable = refundableCredits(row, allocation?.refundable ?? 0);
      const credits = body.credits ?? refundable;
      const taken =
        allocation && credits > 0 && credits <= refundable
          ? await this.credits.takeBack(manager, {
              allocationId: allocation.id,
              credits,
              allowDebt: false,
              debtBefore: row.debt_created,
              createdBy: actor.createdBy,
              apiKeyId: actor.apiKeyId ?? null,
            })
          : null;
      if (!taken || taken.taken !== credits) {
        // taken.refundable is the lot's free credits read under the account lock (a charge may have
        // spent some since they were read above).
        const left = Math.min(taken?.refundable ?? refundable, refundable);
        throw new DomainError('REFUND_EXCEEDS_REFUNDABLE', `Only ${left} credits of this purchase are refundable`, {
          refundableCredits: left,
        });
      }
      // The money the refund line took by the rule (docs/finance.md), so a purchase's money adds up.
      const amount = fromMinor(await this.credits.lastRefundMinor(manager, allocation!.id), row.currency);
      const refund = await this.repo.insertRefund(manager, {
        purchaseId: row.id,
        origin: 'admin',
        credits,
        debt: 0,
        amount,
        reason: body.reason ?? null,
        createdBy: actor.createdBy,
      });
      const refundedCredits = row.refunded_credits + credits;
      const refunded = fromMinor(minorOf(row, row.refunded_amount) + minorOf(row, amount), row.currency);
      const after = await this.repo.update(manager, row.id, {
        refunded_credits: refundedCredits,
        refunded_amount: refunded,
        ...statusAfterRefund(row, { refunded_amount: refunded }),
      });
      await this.events.emit(manager, 'purchase.refunded', {
        purchaseId: row.id,
        ...accountOf(row),
        refundId: refund.id,
        origin: 'admin',
        credits,
        debt: 0,
        amount,
        currency: row.currency,
      });
      await this.audit.record(manager, {
        action: 'purchase.refund',
        targetId: row.id,
        before: toPurchaseView(row),
        after: { ...toPurchaseView(after), refund: toRefundView(refund) },
      });
      return toRefundView(refund);
    });
  }

  /** What the provider reported about a paid purchase (its route, or a verified webhook). */
  providerEvent(
    actor: PurchaseActor,
    id: string,
    event: { type: ProviderEventType; amountRefunded?: string },
  ): Promise<PurchaseView> {
    if ((event.type === 'refunded') !== (event.amountRefunded !== undefined)) {
      throw new DomainError('VALIDATION', 'amountRefunded is required with type refunded, and only with it');
    }
    return this.tx.run(async (manager) => {
      const row = await this.purchases.locked(manager, id);
      if (!PAID_STATUSES.includes(row.status)) {
        throw new DomainError('PURCHASE_NOT_PAID', `The purchase is ${row.status}: the provider has nothing to change`);
      }
      const change = await this.apply(manager, actor, row, event);
      if (!change) return toPurchaseView(row);
      const after = await this.repo.update(manager, row.id, change);
      await this.audit.record(manager, {
        action: 'purchase.provider_event',
        targetId: row.id,
        before: toPurchaseView(row),
        after: { ...toPurchaseView(after), event },
        system: actor.system,
      });
      return toPurchaseView(after);
    });
  }

  /** The event's movements and events; the purchase's change (null: nothing changes). */
  private async apply(
    manager: EntityManager,
    actor: PurchaseActor,
    row: PurchaseRow,
    event: { type: ProviderEventType; amountRefunded?: string },
  ): Promise<PurchaseChange | null> {
    const allocation = await this.credits.purchaseAllocation(manager, row.id);
    if (!allocation) return null;
    // A dispute freezes the allocation's credits (out of its remaining); `false` gives them back.
    const freeze = (on: boolean) =>
      this.credits.freeze(manager, {
        allocationId: allocation.id,
        freeze: on,
        createdBy: actor.createdBy,
        apiKeyId: actor.apiKeyId ?? null,
      });
    switch (event.type) {
      case 'refunded': {
        if (!placesFit(event.amountRefunded!, row.currency)) {
          throw new DomainError(
            'VALIDATION',
            `amountRefunded has more decimal places than ${row.currency} has (${minorUnits(row.currency)})`,
          );
        }
        const reported = minorOf(row, event.amountRefunded!);
        if (reported > minorOf(row, row.amount)) {
          throw new DomainError('VALIDATION', `amountRefunded is more than the purchase's amount ${row.amount}`);
        }
        if (reported <= minorOf(row, row.provider_refunded_amount)) return null;
        const want = creditsForRefund(grantedCredits(row), event.amountRefunded!, row.amount, row.currency);
        // During a dispute the allocation's credits are frozen (out of its remaining): the refund
        // takes back from them, and what is left is frozen again.
        const disputed = row.status === 'disputed';
        if (disputed) {
          await freeze(false);
        }
        const taken = await this.takeBack(
          manager,
          actor,
          row,
          allocation.id,
          want - row.refunded_credits - row.debt_created,
          {
            origin: 'provider',
            amount: fromMinor(reported - minorOf(row, row.provider_refunded_amount), row.currency),
          },
        );
        const refrozen = disputed ? await freeze(true) : null;
        const providerRefunded = fromMinor(reported, row.currency);
        return {
          provider_refunded_amount: providerRefunded,
          refunded_credits: row.refunded_credits + taken.taken,
          debt_created: row.debt_created + taken.debt,
          ...(refrozen === null ? {} : { disputed_credits: refrozen }),
          ...statusAfterRefund(row, { provider_refunded_amount: providerRefunded }),
        };
      }
      case 'dispute_opened': {
        if (row.status === 'disputed' || row.status === 'charged_back') return null;
        const frozen = await freeze(true);
        await this.events.emit(manager, 'purchase.disputed', {
          purchaseId: row.id,
          ...accountOf(row),
          credits: frozen,
        });
        return { status: 'disputed', status_before_dispute: row.status, disputed_credits: frozen };
      }
      case 'dispute_won': {
        if (row.status !== 'disputed') return null;
        const back = await freeze(false);
        await this.events.emit(manager, 'purchase.dispute_closed', {
          purchaseId: row.id,
          ...accountOf(row),
          outcome: 'won',
          credits: back,
          debt: 0,
        });
        return { status: row.status_before_dispute ?? 'paid', status_before_dispute: null, disputed_credits: 0 };
      }
      case 'dispute_lost': {
        if (row.status === 'charged_back') return null;
        await freeze(false);
        const taken = await this.takeBack(
          manager,
          actor,
          row,
          allocation.id,
          grantedCredits(row) - row.refunded_credits - row.debt_created,
          {
            origin: 'chargeback',
            amount: fromMinor(minorOf(row, row.amount) - refundedMinor(row), row.currency),
          },
        );
        await this.events.emit(manager, 'purchase.dispute_closed', {
          purchaseId: row.id,
          ...accountOf(row),
          outcome: 'lost',
          credits: taken.taken,
          debt: taken.debt,
        });
        return {
          status: 'charged_back',
          status_before_dispute: null,
          disputed_credits: 0,
          refunded_credits: row.refunded_credits + taken.taken,
          debt_created: row.debt_created + taken.debt,
        };
      }
    }
  }

  /** Takes `credits` back (the spent part as debt) and writes its refund row; a provider's refund tells purchase.refunded. */
  private async takeBack(
    manager: EntityManager,
    actor: PurchaseActor,
    row: PurchaseRow,
    allocationId: string,
    credits: number,
    what: { origin: 'provider' | 'chargeback'; amount: string },
  ): Promise<{ taken: number; debt: number }> {
    if (credits <= 0) return { taken: 0, debt: 0 };
    const taken = await this.credits.takeBack(manager, {
      allocationId,
      credits,
      chargeback: what.origin === 'chargeback',
      allowDebt: true,
      debtBefore: row.debt_created,
      createdBy: actor.createdBy,
      apiKeyId: actor.apiKeyId ?? null,
    });
    // What was neither left nor spent (it expired, or was voided) is not owed: nothing to record then.
    if (taken.taken === 0 && taken.debt === 0) return taken;
    const refund = await this.repo.insertRefund(manager, {
      purchaseId: row.id,
      origin: what.origin,
      credits: taken.taken,
      debt: taken.debt,
      amount: what.amount,
      reason: null,
      createdBy: actor.createdBy,
    });
    if (what.origin === 'provider') {
      await this.events.emit(manager, 'purchase.refunded', {
        purchaseId: row.id,
        ...accountOf(row),
        refundId: refund.id,
        origin: 'provider',
        credits: taken.taken,
        debt: taken.debt,
        amount: what.amount,
        currency: row.currency,
      });
    }
    return taken;
  }
}

/** An amount of the purchase `row` in its currency's minor units. */
const minorOf = (row: PurchaseRow, amount: string): bigint => toMinor(amount, row.currency);

/**
 * A refund's status (docs/purchases.md): `refunded` when the purchase's refunded amount after it (the
 * view's `refundedAmount`) equals its amount, else `partially_refunded`; so a purchase some of whose
 * credits were spent stays partially refunded after the rest is. A disputed purchase stays disputed.
 */
function statusAfterRefund(
  row: PurchaseRow,
  change: Partial<Pick<PurchaseRow, 'refunded_amount' | 'provider_refunded_amount'>>,
): PurchaseChange {
  const whole = refundedMinor({ ...row, ...change }) >= minorOf(row, row.amount);
  const status: PurchaseStatus = whole ? 'refunded' : 'partially_refunded';
  if (row.status === 'disputed') return { status_before_dispute: status };
  if (row.status === 'charged_back') return {};
  return { status };
}
