import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { type Price, pricesOfBody } from '../accounts/billing-currency.js';
import { AuditService } from '../audit/audit.service.js';
import { DomainError, NotFoundError } from '../common/errors/domain-error.js';
import { decodeIdCursor, DEFAULT_LIMIT, type Page, toPage } from '../common/http/pagination.js';
import { fromMinor, toMinor } from '../common/money/currencies.js';
import { Transactions } from '../database/transactions.js';
import { PricingService } from '../pricing/pricing.service.js';
import type { CreatePlanDto, PlanResponseDto, PlanWithCountResponseDto, UpdatePlanDto } from './dto/plans.dto.js';
import type { Plan } from './entities/plan.entity.js';
import { PlansRepository } from './plans.repository.js';

export function toPlanDto(plan: Plan): PlanResponseDto {
  return {
    id: plan.id,
    name: plan.name,
    credits: plan.credits,
    period: plan.period,
    rolloverCap: plan.rolloverCap,
    isActive: plan.isActive,
    price: planPrices(plan)[0] ?? null,
    prices: planPrices(plan),
    models: plan.models,
    features: plan.features,
    createdAt: plan.createdAt.toISOString(),
  };
}

/** A plan's prices, one per currency, the first being its `price` ([]: none). */
export function planPrices(plan: Pick<Plan, 'priceCurrencies' | 'priceMinors'>): Price[] {
  return plan.priceCurrencies.map((currency, i) => ({ amount: fromMinor(plan.priceMinors[i], currency), currency }));
}

/** A plan's prices as its columns (minor units, docs/finance.md); [] clears them. */
function priceColumns(prices: Price[]): Pick<Plan, 'priceMinor' | 'priceCurrency' | 'priceCurrencies' | 'priceMinors'> {
  const minors = prices.map((p) => toMinor(p.amount, p.currency).toString());
  return {
    priceMinor: minors[0] ?? null,
    priceCurrency: prices[0]?.currency ?? null,
    priceCurrencies: prices.map((p) => p.currency),
    priceMinors: minors,
  };
}

/** Refuses a plan's `features` that are not grants of the catalogue (the features module provides it). */
export type FeatureGrantCheck = (manager: EntityManager, grants: Record<string, unknown>) => Promise<void>;

/** The plan catalogue (admin): what each period grants. Granting itself is SubscriptionsService's. */
@Injectable()
export class PlansService {
  constructor(
    private readonly repo: PlansRepository,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(AuditService) private readonly audit: AuditService,
    private readonly pricing: PricingService,
  ) {}

  /**
   * A new plan. Its `features` are checked by `checkGrants`, which the caller above plans hands down
   * (the features module's plan routes: its catalogue, docs/features.md), in this transaction.
   */
  create(createdBy: string, dto: CreatePlanDto, checkGrants: FeatureGrantCheck): Promise<PlanResponseDto> {
    return this.tx.run(async (manager) => {
      if (dto.features) await checkGrants(manager, dto.features);
      const { price, prices, ...rest } = dto;
      const plan = await this.repo.insertPlan(manager, {
        ...rest,
        ...priceColumns(pricesOfBody({ price, prices }) ?? []),
        rolloverCap: dto.rolloverCap ?? 0,
        createdBy,
      });
      if (!plan) throw new DomainError('PLAN_EXISTS', `Plan ${dto.id} already exists`);
      const after = toPlanDto(plan);
      await this.audit.record(manager, { action: 'plan.create', targetId: plan.id, before: null, after });
      return after;
    });
  }

  async list(query: { limit?: number; cursor?: string }): Promise<Page<PlanWithCountResponseDto>> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = decodeIdCursor(query.cursor, 'text');
    const rows = await this.repo.listPlans({ afterId: after?.id ?? null, limit: limit + 1 });
    return toPage(
      rows,
      limit,
      (p) => ({ ...toPlanDto(p), subscriberCount: p.subscriberCount }),
      (p) => ({ id: p.id }),
    );
  }

  /**
   * The plans on offer: the active ones, which a subscription may move to (an inactive plan answers
   * 409 `PLAN_INACTIVE` to a change or its preview), without their subscriber counts: any caller
   * may read them, a portal session too, to choose the plan its preview names.
   */
  async listActive(query: { limit?: number; cursor?: string }): Promise<Page<PlanResponseDto>> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const after = decodeIdCursor(query.cursor, 'text');
    const rows = await this.repo.listActivePlans({ afterId: after?.id ?? null, limit: limit + 1 });
    return toPage(rows, limit, toPlanDto, (p) => ({ id: p.id }));
  }

  /**
   * New values apply from each subscriber's next period (a period's grant is made at its start),
   * but `models` at once: pricing's copy of each subscriber's list changes in this transaction.
   * `features` checked by `checkGrants`, as for create.
   */
  update(id: string, dto: UpdatePlanDto, checkGrants: FeatureGrantCheck): Promise<PlanResponseDto> {
    return this.tx.run(async (manager) => {
      const old = await this.repo.lockPlan(manager, id);
      if (!old) throw new NotFoundError('Plan');
      if (dto.features) await checkGrants(manager, dto.features);
      const before = toPlanDto(old);
      const { price, prices, ...rest } = dto;
      const given = pricesOfBody({ price, prices });
      const changes = given === undefined ? rest : { ...rest, ...priceColumns(given) };
      const after = toPlanDto((await this.repo.updatePlan(manager, id, changes)) ?? old);
      if (dto.models !== undefined) await this.pricing.setPlanModels(manager, id, after.models);
      await this.audit.record(manager, { action: 'plan.update', targetId: id, before, after });
      return after;
    });
  }
}
