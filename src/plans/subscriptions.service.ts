import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { BillingCurrencies } from '../accounts/billing-currencies.service.js';
import { priceFor } from '../accounts/billing-currency.js';
import { AuditService } from '../audit/audit.service.js';
import { ACCOUNT_ACCESS, type AccountAccess, type ResolvedAccount } from '../auth/account-access.js';
import { accountView } from '../auth/account-views.js';
import type { AuthUser } from '../auth/roles.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { DomainError, NotFoundError } from '../common/errors/domain-error.js';
import { toDate } from '../common/validation/dates.js';
import { Transactions } from '../database/transactions.js';
import { CreditAccountsService } from '../engine/credit-accounts.service.js';
import { CreditLotsService } from '../engine/credit-lots.service.js';
import { PricingService } from '../pricing/pricing.service.js';
import type {
  PutSubscriptionDto,
  SubscriptionPreviewResponseDto,
  SubscriptionResponseDto,
} from './dto/subscription.dto.js';
import type { Plan } from './entities/plan.entity.js';
import type { Subscription } from './entities/subscription.entity.js';
import { periodAt } from './periods.js';
import { ChangeRefused, planChange } from './plan-change.js';
import { PlansRepository } from './plans.repository.js';
import { planPrices } from './plans.service.js';
import { SubscriptionPeriods } from './subscription-periods.service.js';

/** A view's fields of a subscription without a schedule. */
const NO_SCHEDULE_VIEW = { scheduledPlanId: null, scheduledAt: null, scheduledAllowance: null, scheduledAnchor: null };

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
    private readonly lots: CreditLotsService,
    private readonly periods: SubscriptionPeriods,
    private readonly locks: CreditAccountsService,
    private readonly audit: AuditService,
    private readonly pricing: PricingService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ACCOUNT_ACCESS) private readonly access: AccountAccess,
    private readonly billing: BillingCurrencies,
  ) {}

  /**
   * Subscribes (or keeps) the user; the same plan again changes nothing, another one replaces it,
   * now or at the period's end, as the options say (docs/plans.md "Changing plans").
   */
  async put(caller: AuthUser, userId: string, dto: PutSubscriptionDto): Promise<SubscriptionResponseDto> {
    return { userId, ...(await this.putFor(caller, { kind: 'user', ownerId: userId }, dto)) };
  }

  /**
   * `put` for any account, a user's or an organisation's. Separation of duties: a supervisor may
   * change neither their own plan nor that of an org they are an active member of. The change is
   * decided by planChange() from what is read under the account's lock, as the preview decides it.
   */
  async putFor(
    caller: AuthUser,
    account: Pick<ResolvedAccount, 'kind' | 'ownerId'>,
    dto: PutSubscriptionDto,
  ): Promise<SubscriptionView> {
    this.checkStartsAt(dto);
    return this.tx.run(async (m) => {
      const accountId = await this.lockForChange(m, caller, account);
      if (accountId === null) throw new NotFoundError(account.kind === 'org' ? 'Org' : 'User');
      // Read once the lock is held: never before the instant the previous holder granted at.
      const now = new Date(this.clock.now());
      const { plan, live, livePlan, change, options } = await this.decide(m, accountId, dto, now, true);
      // A priced plan in the account's billing currency, which its first priced subscription sets.
      if (change.steps.kind !== 'same') {
        const currency = await this.currencyFor(m, accountId, plan);
        if (currency !== null) await this.billing.charge(m, accountId, currency);
      }
      const before = live && livePlan ? subscriptionView(live, livePlan, now) : null;
      const steps = change.steps;
      let after: SubscriptionView;
      if (steps.kind === 'same' || steps.kind === 'schedule') {
        const schedule =
          steps.kind === 'schedule'
            ? {
                scheduledPlanId: plan.id,
                scheduledAt: steps.effectiveAt,
                scheduledAllowance: options.allowance,
                scheduledAnchor: options.anchor,
              }
            : null;
        // The same plan with nothing scheduled: nothing to write, nothing to tell.
        if (!schedule && !live!.scheduledPlanId) return before!;
        await this.repo.setSchedule(m, live!.id, schedule);
        after = subscriptionView(Object.assign(live!, schedule ?? NO_SCHEDULE_VIEW), livePlan!, now);
      } else {
        if (live) await this.repo.endSubscription(m, live.id, caller.userId);
        const created = await this.repo.insertSubscription(m, account, {
          accountId,
          planId: plan.id,
          startsAt: steps.anchor,
          nextGrantAt: steps.period?.end ?? steps.anchor,
          createdBy: caller.userId,
        });
        await this.pricing.setAccountPlan(m, accountId, plan);
        if (steps.period) {
          await this.lots.expireNow(m, accountId, steps.expire, steps.period.start);
          await this.periods.grant(m, accountId, created, plan, steps.period, steps.grant, caller.userId);
        }
        await this.periods.told(m, created, {
          fromPlanId: live?.planId ?? null,
          toPlanId: plan.id,
          options,
          creditsGranted: change.creditsGrantedNow,
          effectiveAt: change.effectiveAt,
        });
        after = subscriptionView(created, plan, now);
      }
      await this.audit.record(m, {
        action: 'subscription.set',
        targetId: account.ownerId,
        targetType: account.kind,
        before: before && { ...accountView(account.kind, account.ownerId), ...before },
        after: {
          ...accountView(account.kind, account.ownerId),
          ...after,
          options,
          creditsGranted: change.creditsGrantedNow,
        },
      });
      return after;
    });
  }

  /**
   * What `put` with this body would do now, written nowhere: the same decision from the same reads
   * (in a transaction of its own, without the lock a write would take).
   */
  async previewFor(resolved: ResolvedAccount, dto: PutSubscriptionDto): Promise<SubscriptionPreviewView> {
    this.checkStartsAt(dto);
    const accountId = resolved.accountId;
    return this.tx.run(async (m) => {
      const now = new Date(this.clock.now());
      const { plan, change, options } = await this.decide(m, accountId, dto, now, false);
      if (change.steps.kind !== 'same') await this.currencyFor(m, accountId, plan);
      return {
        planId: plan.id,
        timing: options.timing,
        effectiveAt: change.effectiveAt.toISOString(),
        creditsGrantedNow: change.creditsGrantedNow,
        lots: change.lots.map((l) => ({
          allocationId: l.id,
          credits: l.credits,
          expiresAt: l.expiresAt.toISOString(),
        })),
        currentPeriodStart: change.currentPeriodStart?.toISOString() ?? null,
        currentPeriodEnd: change.currentPeriodEnd?.toISOString() ?? null,
        nextGrantAt: change.nextGrantAt?.toISOString() ?? null,
      };
    });
  }

  /**
   * The currency a subscription to `plan` pays in: its price in the account's billing currency, else
   * (none set) its first; null when it has no price. A priced plan without the account's currency →
   * CURRENCY_MISMATCH (409), before anything is written.
   */
  private async currencyFor(m: EntityManager, accountId: string, plan: Plan): Promise<string | null> {
    const prices = planPrices(plan);
    return prices.length === 0 ? null : priceFor(prices, await this.billing.of(m, accountId)).currency;
  }

  private checkStartsAt(dto: PutSubscriptionDto): void {
    const startsAt = dto.startsAt ? toDate(dto.startsAt) : null;
    if (startsAt && startsAt.getTime() < this.clock.now() - STARTS_AT_TOLERANCE_MS)
      throw new DomainError('VALIDATION', 'startsAt must not be in the past');
  }

  /**
   * The reads a change is decided from, and the decision (planChange()). `locking`: the PUT's
   * reads, which lock the live subscription and the plan as a write must.
   */
  private async decide(m: EntityManager, accountId: string, dto: PutSubscriptionDto, now: Date, locking: boolean) {
    const plan = locking ? await this.repo.sharePlan(m, dto.planId) : await this.repo.findPlan(m, dto.planId);
    if (!plan) throw new NotFoundError('Plan');
    const live = locking
      ? await this.repo.lockLiveSubscription(m, accountId)
      : await this.repo.findLiveSubscription(m, accountId);
    if (!plan.isActive && live?.planId !== plan.id)
      throw new DomainError('PLAN_INACTIVE', `Plan ${plan.id} is not active`);
    const livePlan = live && (await this.repo.findPlan(m, live.planId));
    const options = {
      timing: dto.timing ?? 'now',
      allowance: dto.allowance ?? 'difference',
      anchor: dto.anchor ?? 'keep',
    } as const;
    const lots = await this.lots.liveLots(m, accountId, now);
    try {
      const change = planChange({
        now,
        options: { ...options, startsAt: dto.startsAt ? toDate(dto.startsAt) : null },
        plan,
        live: live && livePlan && { startsAt: live.startsAt, nextGrantAt: live.nextGrantAt, plan: livePlan },
        keptAnchor: await this.keptAnchor(m, accountId, live, now),
        lots: lots.map((l) => ({
          id: l.id,
          source: l.source,
          totalCredits: l.total_credits,
          credits: l.remaining_credits,
          expiresAt: l.expires_at,
        })),
      });
      return { plan, live, livePlan, change, options };
    } catch (error) {
      throw error instanceof ChangeRefused ? refusal(error) : error;
    }
  }

  /** The user's live subscription (the user account the access guard resolved), else 404. */
  async get(account: ResolvedAccount): Promise<SubscriptionResponseDto> {
    const found = await this.find(account);
    if (!found) throw new NotFoundError('Subscription');
    return found;
  }

  /** The user's live subscription; null when none. */
  async find(account: ResolvedAccount): Promise<SubscriptionResponseDto | null> {
    const view = await this.findFor(account);
    return view && { userId: account.ownerId, ...view };
  }

  /** The account's live subscription (the one that carries the account); null when none. */
  async findFor(account: Pick<ResolvedAccount, 'accountId'>): Promise<SubscriptionView | null> {
    const now = new Date(this.clock.now());
    const manager = this.tx.statementManager;
    const sub = await this.repo.findLiveSubscription(manager, account.accountId);
    const plan = sub && (await this.repo.findPlan(manager, sub.planId));
    return sub && plan ? subscriptionView(sub, plan, now) : null;
  }

  /** Ends the live subscription: no further grants; granted credits stay until they expire. */
  async remove(caller: AuthUser, userId: string): Promise<SubscriptionResponseDto> {
    return { userId, ...(await this.removeFor(caller, { kind: 'user', ownerId: userId })) };
  }

  async removeFor(caller: AuthUser, account: Pick<ResolvedAccount, 'kind' | 'ownerId'>): Promise<SubscriptionView> {
    const now = new Date(this.clock.now());
    return this.tx.run(async (m) => {
      const accountId = await this.lockForChange(m, caller, account);
      const live = accountId === null ? null : await this.repo.lockLiveSubscription(m, accountId);
      const plan = live && (await this.repo.findPlan(m, live.planId));
      if (!live || !plan || accountId === null) throw new NotFoundError('Subscription');
      await this.repo.endSubscription(m, live.id, caller.userId);
      await this.pricing.setAccountPlan(m, accountId, null);
      const before = subscriptionView(live, plan, now);
      await this.audit.record(m, {
        action: 'subscription.delete',
        targetId: account.ownerId,
        targetType: account.kind,
        before: { ...accountView(account.kind, account.ownerId), ...before },
        after: null,
      });
      return { ...before, nextGrantAt: null, scheduledChange: null };
    });
  }

  /**
   * The anchor a new subscription keeps: that of the user's live subscription, or of the one ended
   * last, when its period in progress at `now` has begun and it was live in it. Re-subscribing
   * (after a DELETE or to another plan) then stays in the same period, whose allowance was granted
   * already, instead of starting a new one; the next period starts when it would have anyway.
   */
  private async keptAnchor(m: EntityManager, accountId: string, live: Subscription | null, now: Date) {
    const previous = live ?? (await this.repo.lastEndedSubscription(m, accountId));
    const plan = previous && (await this.repo.findPlan(m, previous.planId));
    const period = previous && plan && periodAt(previous.startsAt, plan.period, now);
    if (!previous || !period) return null;
    if (previous.endedAt && previous.endedAt.getTime() < period.start.getTime()) return null;
    return previous.startsAt;
  }

  /**
   * One due subscription of the renewal job, in its own transaction, with the account its row
   * carries (`accountId`, read with the due list): false when it was not due any more, is not that
   * account's, or another instance holds it.
   */
  renewDue(id: string, accountId: string, asOf: Date): Promise<boolean> {
    return this.tx.run(async (m) => {
      // The account the row carries, as the due list read it: its lock first, then the row's (taken
      // only if the row is that account's).
      if (!(await this.locks.lockAccount(m, accountId))) return false;
      const sub = await this.repo.lockIfDue(m, id, accountId, asOf);
      const plan = sub && (await this.repo.findPlan(m, sub.planId));
      if (!sub || !plan) return false;
      if (sub.scheduledAt && sub.scheduledAt.getTime() <= asOf.getTime())
        await this.periods.applySchedule(m, accountId, sub, plan, asOf);
      else await this.periods.renew(m, accountId, sub, plan, asOf, 'system', 'renewal');
      return true;
    });
  }

  /**
   * The account a subscription change is of, read with the separation-of-duties decision (a
   * supervisor changes neither their own plan nor an org's they are an active member of), then
   * locked; its id, null when it has none.
   */
  private async lockForChange(
    m: EntityManager,
    caller: AuthUser,
    account: Pick<ResolvedAccount, 'kind' | 'ownerId'>,
  ): Promise<string | null> {
    const accountId = await this.access.forGrant(caller, account, 'subscription', m);
    return accountId !== null && (await this.locks.lockAccount(m, accountId)) ? accountId : null;
  }
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
    scheduledChange:
      sub.scheduledPlanId && sub.scheduledAt
        ? { planId: sub.scheduledPlanId, effectiveAt: sub.scheduledAt.toISOString() }
        : null,
  };
}

/** What a preview answers beside its owner. */
export type SubscriptionPreviewView = SubscriptionPreviewResponseDto;

/** A change's refusal as the API answers it. */
function refusal(error: ChangeRefused): DomainError {
  switch (error.reason) {
    case 'full_needs_restart':
      return new DomainError('VALIDATION', 'allowance full requires anchor restart');
    case 'starts_at_conflict':
      return new DomainError('VALIDATION', 'startsAt goes only with timing now and anchor keep');
    case 'no_period':
      return new DomainError(
        'NO_PERIOD_IN_PROGRESS',
        'timing period_end needs a live subscription whose period has started',
      );
  }
}
