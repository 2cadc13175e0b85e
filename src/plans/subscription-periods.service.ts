import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { accountNamed } from '../accounts/account-ref.js';
import { BillingCurrencies } from '../accounts/billing-currencies.service.js';
import { CreditLotsService } from '../engine/credit-lots.service.js';
import type { AllocationView } from '../engine/credit-views.js';
import { CreditsService } from '../engine/credits.service.js';
import { namedInEvent } from '../events/event-types.js';
import { EventsService } from '../events/events.service.js';
import { PricingService } from '../pricing/pricing.service.js';
import type { Plan } from './entities/plan.entity.js';
import type { Subscription } from './entities/subscription.entity.js';
import { periodAt, type PeriodBounds, periodStart } from './periods.js';
import type { ChangeAllowance, ChangeAnchor, ChangeTiming } from './plan-change.js';
import { PlansRepository } from './plans.repository.js';

/** What a change was asked to do, as `subscription.changed` and the audit tell it. */
export interface ChangeOptionsTold {
  timing: ChangeTiming;
  allowance: ChangeAllowance;
  anchor: ChangeAnchor;
}

/**
 * A subscription's periods and their money: the grant of a period, a renewal, and the change that
 * replaces one subscription with another (now, or scheduled for the period's end). Every movement
 * goes through the credits module under the account's lock, which the caller took; each period's
 * grant and rollover are keyed by (subscription, period start), so none is made twice.
 */
@Injectable()
export class SubscriptionPeriods {
  constructor(
    private readonly repo: PlansRepository,
    private readonly credits: CreditsService,
    private readonly lots: CreditLotsService,
    private readonly events: EventsService,
    private readonly pricing: PricingService,
    private readonly billing: BillingCurrencies,
  ) {}

  /**
   * Grants the period in progress at `asOf` (only that one: after downtime, past periods' credits
   * would already have expired), first rolling over what the period just ended left, and moves
   * `nextGrantAt` to the period's end. A deactivated plan grants nothing; its subscription only
   * moves on. Grants that exist already are not made again. Only the job's grants of a later
   * period (`cause` renewal) are told as `subscription.renewed`.
   *
   * Plan changes never mint credits: the grant is the plan's credits minus what the account's plan
   * allocations in force at `asOf` granted (a renewal finds the last period's allocation expired and
   * grants in full). Answers the plan allocation granted, if any.
   */
  async renew(
    m: EntityManager,
    accountId: string,
    sub: Subscription,
    plan: Plan,
    asOf: Date,
    by: string,
    cause: 'change' | 'renewal',
  ): Promise<AllocationView | null> {
    const period = periodAt(sub.startsAt, plan.period, asOf);
    if (!period) return null;
    let granted: AllocationView | null = null;
    if (plan.isActive) {
      if (period.index > 0 && plan.rolloverCap > 0)
        await this.rollover(
          m,
          accountId,
          sub,
          plan.rolloverCap,
          periodStart(sub.startsAt, plan.period, period.index - 1),
          {
            sub,
            plan,
            period,
          },
        );
      const credits = plan.credits - (await this.lots.creditsInForce(m, accountId, asOf));
      granted = await this.grant(m, accountId, sub, plan, period, credits, by);
      if (granted && cause === 'renewal' && period.index > 0)
        await this.events.emit(m, 'subscription.renewed', {
          ...namedInEvent(sub.userId, sub.orgId),
          planId: plan.id,
          allocationId: granted.id,
        });
    }
    await this.repo.setNextGrantAt(m, sub.id, period.end);
    Object.assign(sub, { nextGrantAt: period.end });
    return granted;
  }

  /** `credits` of `plan` for `period` of `sub`, expiring with it (nothing when credits ≤ 0). */
  async grant(
    m: EntityManager,
    accountId: string,
    sub: Subscription,
    plan: Plan,
    period: PeriodBounds,
    credits: number,
    by: string,
  ): Promise<AllocationView | null> {
    if (credits <= 0) return null;
    const price = await this.priceMinor(m, accountId, plan);
    return this.credits.grantOnce(m, {
      accountId,
      credits,
      expiresAt: period.end,
      allocatedBy: by,
      notes: credits < plan.credits ? `Plan ${plan.id} (${credits} of ${plan.credits})` : `Plan ${plan.id}`,
      source: 'plan',
      plan: { planId: plan.id, subscriptionId: sub.id, periodStart: period.start },
      // The allowance is worth the plan's price (its share when only part of it is granted).
      value: price && { minor: (price.minor * BigInt(credits)) / BigInt(plan.credits), currency: price.currency },
    });
  }

  /**
   * The plan's price the account pays, in minor units (under the account lock, which the caller
   * holds): the one in its billing currency; with none set, the first, which sets it (the account's
   * first priced subscription). Null: the plan has no price, or none in the account's currency any
   * more (its prices changed since; the allowance is then promotional, never valued in another currency).
   */
  private async priceMinor(m: EntityManager, accountId: string, plan: Plan) {
    if (plan.priceCurrencies.length === 0) return null;
    const billing = await this.billing.of(m, accountId);
    const i = billing === null ? 0 : plan.priceCurrencies.indexOf(billing);
    if (i < 0) return null;
    if (billing === null) await this.billing.charge(m, accountId, plan.priceCurrencies[0]);
    return { minor: BigInt(plan.priceMinors[i]), currency: plan.priceCurrencies[i] };
  }

  /**
   * Up to `cap` unused credits of `from`'s plan allocation for the period starting at `fromStart`
   * move into the period `into` (a `rollover` allocation expiring with it).
   */
  private async rollover(
    m: EntityManager,
    accountId: string,
    from: Subscription,
    cap: number,
    fromStart: Date,
    into: { sub: Subscription; plan: Plan; period: PeriodBounds },
  ): Promise<void> {
    await this.lots.rolloverPeriod(m, {
      accountId,
      fromSubscriptionId: from.id,
      fromPeriodStart: fromStart,
      cap,
      expiresAt: into.period.end,
      into: { planId: into.plan.id, subscriptionId: into.sub.id, periodStart: into.period.start },
    });
  }

  /**
   * Applies the change `sub` scheduled for its period's end, instead of the old plan's renewal: the
   * new plan's subscription starts at that instant (anchored there, or kept when `keep` and both
   * plans have the same period), the old plan's rollover cap carries what its last period left over,
   * and the new period is granted as every period is. Tells `subscription.changed` once: the caller
   * holds the subscription's row lock and ends it here, so no other instance applies it again.
   */
  async applySchedule(
    m: EntityManager,
    accountId: string,
    sub: Subscription,
    oldPlan: Plan,
    asOf: Date,
  ): Promise<void> {
    const effectiveAt = sub.scheduledAt!;
    const { scheduledAllowance, scheduledAnchor } = sub;
    const plan = (await this.repo.findPlan(m, sub.scheduledPlanId!))!;
    const anchor = scheduledAnchor === 'keep' && plan.period === oldPlan.period ? sub.startsAt : effectiveAt;
    await this.repo.endSubscription(m, sub.id, 'system');
    const created = await this.repo.insertSubscription(m, accountNamed(sub.orgId, sub.userId!), {
      accountId,
      planId: plan.id,
      startsAt: anchor,
      nextGrantAt: anchor,
      createdBy: 'system',
    });
    await this.pricing.setAccountPlan(m, accountId, plan);
    const period = periodAt(anchor, plan.period, asOf);
    const ended = periodAt(sub.startsAt, oldPlan.period, new Date(effectiveAt.getTime() - 1));
    // After downtime longer than a period, what the old period left has expired: nothing rolls over.
    if (period && ended && period.start.getTime() === effectiveAt.getTime() && oldPlan.rolloverCap > 0)
      await this.rollover(m, accountId, sub, oldPlan.rolloverCap, ended.start, { sub: created, plan, period });
    const granted = await this.renew(m, accountId, created, plan, asOf, 'system', 'change');
    await this.told(m, sub, {
      fromPlanId: oldPlan.id,
      toPlanId: plan.id,
      options: { timing: 'period_end', allowance: scheduledAllowance!, anchor: scheduledAnchor! },
      creditsGranted: granted?.totalCredits ?? 0,
      effectiveAt,
    });
  }

  /** `subscription.changed`, once per change, in the change's transaction. */
  told(
    m: EntityManager,
    sub: Pick<Subscription, 'userId' | 'orgId'>,
    change: {
      fromPlanId: string | null;
      toPlanId: string;
      options: ChangeOptionsTold;
      creditsGranted: number;
      effectiveAt: Date;
    },
  ): Promise<string> {
    return this.events.emit(m, 'subscription.changed', {
      ...namedInEvent(sub.userId, sub.orgId),
      fromPlanId: change.fromPlanId,
      toPlanId: change.toPlanId,
      ...change.options,
      creditsGranted: change.creditsGranted,
      effectiveAt: change.effectiveAt.toISOString(),
    });
  }
}
