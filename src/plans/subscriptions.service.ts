import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { AccountIds } from '../accounts/account-ids.js';
import { ownerAccount } from '../accounts/account-ref.js';
import { AuditService } from '../audit/audit.service.js';
import { ACCOUNT_ACCESS, type AccountAccess, kindOf, ownerIdOf, type PublicAccount } from '../auth/account-access.js';
import type { AuthUser } from '../auth/roles.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { DomainError, NotFoundError } from '../common/errors/domain-error.js';
import { toDate } from '../common/validation/dates.js';
import { AccountLocksRepository } from '../credits/account-locks.repository.js';
import { CreditQueriesService } from '../credits/credit-queries.service.js';
import { CreditsService } from '../credits/credits.service.js';
import { Transactions } from '../database/transactions.js';
import { namedInEvent } from '../events/event-types.js';
import { EventsService } from '../events/events.service.js';
import { PricingService } from '../pricing/pricing.service.js';
import type { PutSubscriptionDto, SubscriptionResponseDto } from './dto/subscription.dto.js';
import type { Plan } from './entities/plan.entity.js';
import type { Subscription } from './entities/subscription.entity.js';
import { periodAt, periodStart } from './periods.js';
import { PlansRepository } from './plans.repository.js';

/** How far in the past a `startsAt` may be (a client's "now" arrives a little late). */
const STARTS_AT_TOLERANCE_MS = 60_000;

/**
 * Subscriptions and their period grants (docs/money.md, "Plans and rollover"). Every grant goes
 * through the credits module, keyed by (subscription, period start), so each period is granted at
 * most once whatever retries, restarts or other instances do; and a grant adds only what the plan
 * allocations in force lack, so plan changes never mint credits. Lock order: the user's account row,
 * (for PUT, the new plan's row, shared), then the subscription row (the same for PUT, DELETE and the
 * renewal job), then the credit rows. Each start and end hands pricing the plan whose model list now
 * applies to the account (`PricingService.setAccountPlan`), in the same transaction.
 */
@Injectable()
export class SubscriptionsService {
  constructor(
    private readonly tx: Transactions,
    private readonly repo: PlansRepository,
    private readonly credits: CreditsService,
    private readonly creditQueries: CreditQueriesService,
    private readonly locks: AccountLocksRepository,
    private readonly events: EventsService,
    private readonly audit: AuditService,
    private readonly pricing: PricingService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ACCOUNT_ACCESS) private readonly access: AccountAccess,
    @Inject(AccountIds) private readonly ids: AccountIds,
  ) {}

  /**
   * Subscribes (or keeps) the user; the same plan again changes nothing, another one replaces it.
   * Without `startsAt`, a change keeps the period in progress (`keptAnchor`): it grants only what the
   * new plan adds to the allowance already granted in it.
   */
  async put(caller: AuthUser, userId: string, dto: PutSubscriptionDto): Promise<SubscriptionResponseDto> {
    return { userId, ...(await this.putFor(caller, { userId }, dto)) };
  }

  /**
   * `put` for any account, a user's or an organisation's. Separation of duties: a supervisor may
   * change neither their own plan nor that of an org they are an active member of.
   */
  async putFor(caller: AuthUser, account: PublicAccount, dto: PutSubscriptionDto): Promise<SubscriptionView> {
    const startsAt = dto.startsAt ? toDate(dto.startsAt) : null;
    if (startsAt && startsAt.getTime() < this.clock.now() - STARTS_AT_TOLERANCE_MS)
      throw new DomainError('VALIDATION', 'startsAt must not be in the past');
    return this.tx.run(async (m) => {
      await this.access.forGrant(caller, account, 'subscription', m);
      const accountId = await this.lock(m, account);
      if (accountId === null) throw new NotFoundError(account.orgId !== undefined ? 'Org' : 'User');
      // Read once the lock is held: never before the instant the previous holder granted at.
      const now = new Date(this.clock.now());
      const plan = await this.repo.sharePlan(m, dto.planId);
      if (!plan) throw new NotFoundError('Plan');
      const live = await this.repo.lockLiveSubscription(m, account);
      if (live?.planId === plan.id) return subscriptionView(live, plan, now);
      if (!plan.isActive) throw new DomainError('PLAN_INACTIVE', `Plan ${plan.id} is not active`);
      const anchor = startsAt ?? (await this.keptAnchor(m, account, live, now)) ?? now;
      const livePlan = live && (await this.repo.findPlan(m, live.planId));
      const before = live && livePlan ? subscriptionView(live, livePlan, now) : null;
      if (live) await this.repo.endSubscription(m, live.id, caller.userId);
      const created = await this.repo.insertSubscription(m, account, {
        planId: plan.id,
        startsAt: anchor,
        nextGrantAt: anchor,
        createdBy: caller.userId,
      });
      await this.pricing.setAccountPlan(m, accountId, plan);
      const renewed = await this.renew(m, accountId, created, plan, now, caller.userId, 'change');
      const after = subscriptionView(renewed, plan, now);
      await this.audit.record(m, {
        action: 'subscription.set',
        targetId: ownerIdOf(account),
        targetType: kindOf(account),
        before: before && { ...account, ...before },
        after: { ...account, ...after },
      });
      return after;
    });
  }

  async get(userId: string): Promise<SubscriptionResponseDto> {
    const found = await this.find(userId);
    if (!found) throw new NotFoundError('Subscription');
    return found;
  }

  /** The user's live subscription; null when none. */
  async find(userId: string): Promise<SubscriptionResponseDto | null> {
    const view = await this.findFor({ userId });
    return view && { userId, ...view };
  }

  /** The account's live subscription; null when none. */
  async findFor(account: PublicAccount): Promise<SubscriptionView | null> {
    const now = new Date(this.clock.now());
    const manager = this.tx.statementManager;
    const sub = await this.repo.findLiveSubscription(manager, account);
    const plan = sub && (await this.repo.findPlan(manager, sub.planId));
    return sub && plan ? subscriptionView(sub, plan, now) : null;
  }

  /** Ends the live subscription: no further grants; granted credits stay until they expire. */
  async remove(caller: AuthUser, userId: string): Promise<SubscriptionResponseDto> {
    return { userId, ...(await this.removeFor(caller, { userId })) };
  }

  async removeFor(caller: AuthUser, account: PublicAccount): Promise<SubscriptionView> {
    const now = new Date(this.clock.now());
    return this.tx.run(async (m) => {
      await this.access.forGrant(caller, account, 'subscription', m);
      const accountId = await this.lock(m, account);
      const live = await this.repo.lockLiveSubscription(m, account);
      const plan = live && (await this.repo.findPlan(m, live.planId));
      if (!live || !plan || accountId === null) throw new NotFoundError('Subscription');
      await this.repo.endSubscription(m, live.id, caller.userId);
      await this.pricing.setAccountPlan(m, accountId, null);
      const before = subscriptionView(live, plan, now);
      await this.audit.record(m, {
        action: 'subscription.delete',
        targetId: ownerIdOf(account),
        targetType: kindOf(account),
        before: { ...account, ...before },
        after: null,
      });
      return { ...before, nextGrantAt: null };
    });
  }

  /**
   * The anchor a new subscription keeps: that of the user's live subscription, or of the one ended
   * last, when its period in progress at `now` has begun and it was live in it. Re-subscribing
   * (after a DELETE or to another plan) then stays in the same period, whose allowance was granted
   * already, instead of starting a new one; the next period starts when it would have anyway.
   */
  private async keptAnchor(m: EntityManager, account: PublicAccount, live: Subscription | null, now: Date) {
    const previous = live ?? (await this.repo.lastEndedSubscription(m, account));
    const plan = previous && (await this.repo.findPlan(m, previous.planId));
    const period = previous && plan && periodAt(previous.startsAt, plan.period, now);
    if (!previous || !period) return null;
    if (previous.endedAt && previous.endedAt.getTime() < period.start.getTime()) return null;
    return previous.startsAt;
  }

  /**
   * One due subscription of the renewal job, in its own transaction: false when it was not due any
   * more or another instance holds it.
   */
  renewDue(id: string, account: PublicAccount, asOf: Date): Promise<boolean> {
    return this.tx.run(async (m) => {
      const accountId = await this.lock(m, account);
      const sub = await this.repo.lockIfDue(m, id, asOf);
      const plan = sub && (await this.repo.findPlan(m, sub.planId));
      if (!sub || !plan) return false;
      await this.renew(m, accountId!, sub, plan, asOf, 'system', 'renewal');
      return true;
    });
  }

  /**
   * Takes the lock of the account a subscription is of (its id from AccountIds, the subscription
   * naming its owner); its id, null when it has none.
   */
  private async lock(m: EntityManager, account: PublicAccount): Promise<string | null> {
    const accountId = await this.ids.of(m, account);
    return accountId !== null && (await this.locks.lockId(m, accountId)) ? accountId : null;
  }

  /**
   * Grants the period in progress at `asOf` (only that one: after downtime, past periods' credits
   * would already have expired), first rolling over what the period just ended left, and moves
   * `nextGrantAt` to the period's end. A deactivated plan grants nothing; its subscription only
   * moves on. Grants that exist already are not made again. Only the job's grants of a later
   * period (`cause` renewal) are told as `subscription.renewed`.
   *
   * Plan changes never mint credits: the grant is the plan's credits minus what the user's plan
   * allocations in force at `asOf` granted (an upgrade gets the difference, a downgrade or the same
   * plan again nothing). A renewal finds the last period's allocation expired and grants in full.
   * Read and grant happen under the account lock the caller took, so concurrent changes serialise.
   */
  private async renew(
    m: EntityManager,
    accountId: string,
    sub: Subscription,
    plan: Plan,
    asOf: Date,
    by: string,
    cause: 'change' | 'renewal',
  ) {
    const period = periodAt(sub.startsAt, plan.period, asOf);
    if (!period) return sub;
    if (plan.isActive) {
      const into = { planId: plan.id, subscriptionId: sub.id, periodStart: period.start };
      if (period.index > 0 && plan.rolloverCap > 0) {
        const from = periodStart(sub.startsAt, plan.period, period.index - 1);
        await this.credits.rollover(m, {
          accountId,
          cap: plan.rolloverCap,
          from,
          into,
          expiresAt: period.end,
        });
      }
      const credits = plan.credits - (await this.creditQueries.planCreditsInForce(m, accountId, asOf));
      const granted =
        credits > 0
          ? await this.credits.grantOnce(m, {
              accountId,
              credits,
              expiresAt: period.end,
              allocatedBy: by,
              notes: credits < plan.credits ? `Plan ${plan.id} (${credits} of ${plan.credits})` : `Plan ${plan.id}`,
              source: 'plan',
              plan: into,
              // The allowance is worth the plan's price (its share when only part of it is granted).
              value:
                plan.priceMinor !== null && plan.priceCurrency !== null
                  ? {
                      minor: (BigInt(plan.priceMinor) * BigInt(credits)) / BigInt(plan.credits),
                      currency: plan.priceCurrency,
                    }
                  : null,
            })
          : null;
      if (granted && cause === 'renewal' && period.index > 0)
        await this.events.emit(m, 'subscription.renewed', {
          ...namedInEvent(sub.userId, sub.orgId),
          planId: plan.id,
          allocationId: granted.id,
        });
    }
    await this.repo.setNextGrantAt(m, sub.id, period.end);
    return Object.assign(sub, { nextGrantAt: period.end });
  }
}

/** The account a subscription is of: its user's, or its organisation's. */
export function accountOf(sub: Pick<Subscription, 'userId' | 'orgId'>): PublicAccount {
  return ownerAccount(sub.orgId, sub.userId!);
}

/** A subscription's view without its owner (a user's routes add `userId`, an org's `orgId`). */
export type SubscriptionView = Omit<SubscriptionResponseDto, 'userId'>;

export function subscriptionView(sub: Subscription, plan: Plan, now: Date): SubscriptionView {
  const period = periodAt(sub.startsAt, plan.period, now);
  return {
    planId: sub.planId,
    startsAt: sub.startsAt.toISOString(),
    currentPeriodStart: period?.start.toISOString() ?? null,
    currentPeriodEnd: period?.end.toISOString() ?? null,
    nextGrantAt: plan.isActive ? sub.nextGrantAt.toISOString() : null,
  };
}
