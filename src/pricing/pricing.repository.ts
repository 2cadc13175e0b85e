import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, IsNull, LessThan, type Repository } from 'typeorm';

import { PricingRule } from './entities/pricing-rule.entity.js';
import type { RulePriceColumns } from './pricing-rules.js';

export type NewPricingRule = RulePriceColumns &
  Pick<PricingRule, 'modelId' | 'effectiveFrom' | 'effectiveTo' | 'createdBy'>;

/** pricing_rules through TypeORM; numeric prices arrive as decimal strings, never floats. */
@Injectable()
export class PricingRepository {
  constructor(@InjectRepository(PricingRule) private readonly rules: Repository<PricingRule>) {}

  /** Every rule, by model, newest effectiveFrom first. */
  all(): Promise<PricingRule[]> {
    return this.rules.find({ order: { modelId: 'ASC', effectiveFrom: 'DESC' } });
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
}
