import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, IsNull, LessThanOrEqual, Not, type Repository } from 'typeorm';

import type { ResolvedAccount } from '../auth/account-access.js';
import { accountView } from '../auth/account-views.js';
import { insertNew } from '../database/insert-new.js';
import type { SqlPart } from '../database/statement-parts.js';
import { Plan } from './entities/plan.entity.js';
import { Subscription } from './entities/subscription.entity.js';

export type NewPlan = Pick<Plan, 'id' | 'name' | 'credits' | 'period' | 'rolloverCap' | 'createdBy'> &
  Partial<Pick<Plan, 'models' | 'priceMinor' | 'priceCurrency' | 'priceCurrencies' | 'priceMinors' | 'features'>>;
export type PlanChanges = Partial<
  Pick<
    Plan,
    | 'name'
    | 'credits'
    | 'rolloverCap'
    | 'isActive'
    | 'models'
    | 'priceMinor'
    | 'priceCurrency'
    | 'priceCurrencies'
    | 'priceMinors'
    | 'features'
  >
>;

/** A subscription's scheduled change, as its row holds it. */
export type Schedule = Pick<Subscription, 'scheduledPlanId' | 'scheduledAt' | 'scheduledAllowance' | 'scheduledAnchor'>;

const NO_SCHEDULE: Schedule = {
  scheduledPlanId: null,
  scheduledAt: null,
  scheduledAllowance: null,
  scheduledAnchor: null,
};

/** plans and subscriptions, through TypeORM (plain CRUD; the money moves in the credits module). */
@Injectable()
export class PlansRepository {
  constructor(
    @InjectRepository(Plan) private readonly plans: Repository<Plan>,
    @InjectRepository(Subscription) private readonly subscriptions: Repository<Subscription>,
  ) {}

  /** Inserts the plan and answers it as stored; null when the id is taken. */
  insertPlan(manager: EntityManager, plan: NewPlan): Promise<Plan | null> {
    return insertNew(manager, Plan, plan, { id: plan.id });
  }

  /** The plan, locked for the caller's transaction (null: unknown). */
  lockPlan(manager: EntityManager, id: string): Promise<Plan | null> {
    return manager.findOne(Plan, { where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  findPlan(manager: EntityManager, id: string): Promise<Plan | null> {
    return manager.findOneBy(Plan, { id });
  }

  /**
   * The plan, read once a change of it in progress has committed (FOR KEY SHARE, which the
   * subscription's foreign key takes anyway): a subscription started now hands pricing the plan's
   * current model list, never one a concurrent update is replacing.
   */
  sharePlan(manager: EntityManager, id: string): Promise<Plan | null> {
    return manager.findOne(Plan, { where: { id }, lock: { mode: 'for_key_share' } });
  }

  /** Plans by id with their live subscriber counts, keyset-paged by id. */
  async listPlans(query: { afterId: string | null; limit: number }): Promise<(Plan & { subscriberCount: number })[]> {
    const qb = this.plans
      .createQueryBuilder('p')
      .addSelect(
        (sub) =>
          sub.select('count(*)::int').from(Subscription, 's').where('s.planId = p.id').andWhere('s.endedAt IS NULL'),
        'subscriber_count',
      )
      .orderBy('p.id')
      .limit(query.limit);
    if (query.afterId !== null) qb.where('p.id > :afterId', { afterId: query.afterId });
    const { entities, raw } = await qb.getRawAndEntities<{ subscriber_count: number }>();
    return entities.map((plan, i) => Object.assign(plan, { subscriberCount: Number(raw[i].subscriber_count) }));
  }

  /** The active plans (those an account may move to), keyset-paged by id. */
  listActivePlans(query: { afterId: string | null; limit: number }): Promise<Plan[]> {
    const qb = this.plans.createQueryBuilder('p').where('p.isActive').orderBy('p.id').limit(query.limit);
    if (query.afterId !== null) qb.andWhere('p.id > :afterId', { afterId: query.afterId });
    return qb.getMany();
  }

  /** Applies the changes and answers the plan as stored (null: unknown). */
  async updatePlan(manager: EntityManager, id: string, changes: PlanChanges): Promise<Plan | null> {
    if (Object.keys(changes).length > 0) await manager.update(Plan, { id }, changes);
    return manager.findOneBy(Plan, { id });
  }

  /** The account's live subscription (a user's or an org's, by the account it carries), locked for the caller's transaction. */
  lockLiveSubscription(manager: EntityManager, accountId: string): Promise<Subscription | null> {
    return manager.findOne(Subscription, {
      where: { accountId, endedAt: IsNull() },
      lock: { mode: 'pessimistic_write' },
    });
  }

  findLiveSubscription(manager: EntityManager, accountId: string): Promise<Subscription | null> {
    return manager.findOneBy(Subscription, { accountId, endedAt: IsNull() });
  }

  /** The account's subscription that ended last (null: none ever ended). */
  lastEndedSubscription(manager: EntityManager, accountId: string): Promise<Subscription | null> {
    return manager.findOne(Subscription, {
      where: { accountId, endedAt: Not(IsNull()) },
      order: { endedAt: 'DESC' },
    });
  }

  /** Inserts the owner's new subscription with its account's id (`sub.accountId`, the one the caller locked). */
  async insertSubscription(
    manager: EntityManager,
    account: Pick<ResolvedAccount, 'kind' | 'ownerId'>,
    sub: Pick<Subscription, 'accountId' | 'planId' | 'startsAt' | 'nextGrantAt' | 'createdBy'>,
  ): Promise<Subscription> {
    const { identifiers } = await manager.insert(Subscription, {
      ...sub,
      // The owner columns it names its account by as the API does: `user_id`, or `org_id` for an organisation's.
      userId: null,
      orgId: null,
      ...accountView(account.kind, account.ownerId),
    });
    return manager.findOneByOrFail(Subscription, { id: identifiers[0].id as string });
  }

  /** Ends the live subscription and drops its scheduled change (an ended one is never applied). */
  async endSubscription(manager: EntityManager, id: string, endedBy: string): Promise<void> {
    await manager.update(Subscription, { id, endedAt: IsNull() }, { endedAt: () => 'now()', endedBy, ...NO_SCHEDULE });
  }

  /** Sets (or with null drops) the change the subscription makes at its period's end. */
  async setSchedule(manager: EntityManager, id: string, schedule: Schedule | null): Promise<void> {
    await manager.update(Subscription, { id }, schedule ?? NO_SCHEDULE);
  }

  async setNextGrantAt(manager: EntityManager, id: string, nextGrantAt: Date): Promise<void> {
    await manager.update(Subscription, { id }, { nextGrantAt });
  }

  /**
   * The credits expiry job's part (CreditExpiryJob hands it to CreditsService.expireDue): each live subscription whose next
   * grant is due, with it, as of the job's statement (`now()`): its plan periods ending at or after
   * that grant wait for the renewal.
   */
  renewalsDue(): SqlPart {
    return {
      sql: `SELECT id AS subscription_id, next_grant_at FROM subscriptions WHERE ended_at IS NULL AND next_grant_at <= now()`,
      params: [],
    };
  }

  /** Live subscriptions whose next period has started (the renewal job's work), oldest due first. */
  async dueSubscriptions(asOf: Date, limit: number): Promise<Pick<Subscription, 'id' | 'accountId'>[]> {
    return this.subscriptions.find({
      select: { id: true, accountId: true },
      where: { endedAt: IsNull(), nextGrantAt: LessThanOrEqual(asOf) },
      order: { nextGrantAt: 'ASC' },
      take: limit,
    });
  }

  /**
   * The subscription, locked, if it is still live, due and the account `accountId`'s; skipped when
   * another instance holds it.
   */
  lockIfDue(manager: EntityManager, id: string, accountId: string, asOf: Date): Promise<Subscription | null> {
    return manager.findOne(Subscription, {
      where: { id, accountId, endedAt: IsNull(), nextGrantAt: LessThanOrEqual(asOf) },
      lock: { mode: 'pessimistic_write', onLocked: 'skip_locked' },
    });
  }
}
