import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, IsNull, LessThan, type Repository } from 'typeorm';

import { withAccountSql } from '../accounts/accounts.sql.js';
import type { ModelList } from './account-prices.js';
import { AccountPrice } from './entities/account-price.entity.js';
import { PlanModelList } from './entities/plan-model-list.entity.js';
import { PricingRule } from './entities/pricing-rule.entity.js';
import type { RulePriceColumns } from './pricing-rules.js';

export type NewPricingRule = RulePriceColumns &
  Pick<PricingRule, 'modelId' | 'effectiveFrom' | 'effectiveTo' | 'createdBy'>;

export type NewAccountPrice = Omit<AccountPrice, 'id' | 'createdAt'>;

/** The channel `pricing_changed_notify()` announces a change of what pricing caches on. */
export const PRICING_CHANNEL = 'pricing_changed';

/** pricing_rules, account_prices and pricing_plan_model_lists; numeric prices arrive as decimal strings, never floats. */
@Injectable()
export class PricingRepository {
  constructor(
    @InjectRepository(PricingRule) private readonly rules: Repository<PricingRule>,
    @InjectRepository(AccountPrice) private readonly accountPrices: Repository<AccountPrice>,
  ) {}

  /** Every rule, by model, newest effectiveFrom first (read in `manager`, else on the pool). */
  all(manager: EntityManager = this.rules.manager): Promise<PricingRule[]> {
    return manager.find(PricingRule, { order: { modelId: 'ASC', effectiveFrom: 'DESC' } });
  }

  history(modelId: string): Promise<PricingRule[]> {
    return this.rules.find({ where: { modelId }, order: { effectiveFrom: 'DESC' } });
  }

  /** Serialises rule changes of one model until the transaction ends. */
  async lockModel(manager: EntityManager, modelId: string): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext('pricing_rules'), hashtext($1))`, [modelId]);
  }

  /** Ends the model's open rule at `at`, if it started before then. */
  async closeOpenRule(manager: EntityManager, modelId: string, at: Date): Promise<void> {
    await manager.update(
      PricingRule,
      { modelId, effectiveTo: IsNull(), effectiveFrom: LessThan(at) },
      { effectiveTo: at },
    );
  }

  /** The model's open-ended rule, if any (rules never overlap: there is at most one). */
  openRule(manager: EntityManager, modelId: string): Promise<PricingRule | null> {
    return manager.findOneBy(PricingRule, { modelId, effectiveTo: IsNull() });
  }

  /** Inserts a rule and returns it as stored (prices as PostgreSQL wrote them). */
  async insert(manager: EntityManager, rule: NewPricingRule): Promise<PricingRule> {
    const { identifiers } = await manager.insert(PricingRule, rule);
    return manager.findOneByOrFail(PricingRule, { id: identifiers[0].id as string });
  }

  /** Every account price (ended ones too: few, and a simulation's past may need them). */
  allAccountPrices(manager: EntityManager = this.accountPrices.manager): Promise<AccountPrice[]> {
    return manager.find(AccountPrice, { order: { effectiveFrom: 'DESC' } });
  }

  /** An account's prices (null: every account's), newest effectiveFrom first. */
  accountPricesOf(accountId: string | null): Promise<AccountPrice[]> {
    const where = accountId === null ? {} : { accountId };
    return this.accountPrices.find({ where, order: { effectiveFrom: 'DESC', modelId: 'ASC' } });
  }

  /** Serialises account price changes of one account and pattern until the transaction ends. */
  async lockAccountPattern(manager: EntityManager, accountId: string, modelId: string): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext('account_prices:' || $1), hashtext($2))`, [
      accountId,
      modelId,
    ]);
  }

  /** Ends the account's open price of the pattern at `at`, if it started before then. */
  async closeOpenAccountPrice(manager: EntityManager, accountId: string, modelId: string, at: Date): Promise<void> {
    await manager.update(
      AccountPrice,
      { accountId, modelId, effectiveTo: IsNull(), effectiveFrom: LessThan(at) },
      { effectiveTo: at },
    );
  }

  async insertAccountPrice(manager: EntityManager, price: NewAccountPrice): Promise<AccountPrice> {
    const { identifiers } = await manager.insert(AccountPrice, price);
    return manager.findOneByOrFail(AccountPrice, { id: identifiers[0].id as string });
  }

  lockAccountPrice(manager: EntityManager, id: string): Promise<AccountPrice | null> {
    return manager.findOne(AccountPrice, { where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  async deleteAccountPrice(manager: EntityManager, id: string): Promise<void> {
    await manager.delete(AccountPrice, { id });
  }

  /**
   * The model lists in force beside a key's, by account id: each organisation's own (on its account,
   * joined as a list of organisations joins it) and each account's plan's (only set ones, so this
   * stays small).
   */
  async modelLists(manager: EntityManager = this.rules.manager): Promise<{ accountId: string; models: ModelList }[]> {
    return manager.query(
      `SELECT a.account_id AS "accountId", o.models FROM orgs o ${withAccountSql('o.org_id', 'org', 'a')}
        WHERE o.models IS NOT NULL
       UNION ALL
       SELECT l.account_id AS "accountId", l.models FROM pricing_plan_model_lists l WHERE l.models IS NOT NULL`,
    );
  }

  /** Records the account's live plan and its model list (null plan: it has none any more). */
  async setAccountPlan(
    manager: EntityManager,
    accountId: string,
    plan: { id: string; models: string[] | null } | null,
  ): Promise<void> {
    if (plan === null) {
      await manager.delete(PlanModelList, { accountId });
      return;
    }
    await manager.upsert(PlanModelList, { accountId, planId: plan.id, models: plan.models }, ['accountId']);
  }

  /** Gives every account on the plan its new model list. */
  async setPlanModels(manager: EntityManager, planId: string, models: string[] | null): Promise<void> {
    await manager.update(PlanModelList, { planId }, { models });
  }
}
