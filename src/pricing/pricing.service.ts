import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';

import { AuditService } from '../audit/audit.service.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { DomainError } from '../common/errors/domain-error.js';
import { MAX_CREDITS } from '../common/validation/amounts.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { Transactions } from '../database/transactions.js';
import type { PricingRule } from './entities/pricing-rule.entity.js';
import { PricingRepository } from './pricing.repository.js';
import { calculateCredits, normalisePrice, providerCost } from './pricing-math.js';

export interface PricingRuleView {
  id: string;
  modelId: string;
  pricePer1kTokens: string;
  outputPricePer1kTokens: string | null;
  providerCostPer1kTokens: string | null;
  effectiveFrom: string;
  effectiveTo: string | null;
  createdBy: string;
  createdAt: string;
}

export interface Quote {
  modelId: string;
  credits: number;
  pricePer1kTokens: string;
  outputPricePer1kTokens: string;
  pricingRuleId: string | null;
  providerCost: string | null;
  source: 'rule' | 'default';
}

export interface PriceView {
  modelId: string;
  pricePer1kTokens: string;
  outputPricePer1kTokens: string;
  providerCostPer1kTokens: string | null;
  pricingRuleId: string | null;
  source: 'rule' | 'default';
  effectiveFrom: string | null;
  effectiveTo: string | null;
}

export interface QuoteTokens {
  tokens?: number;
  inputTokens?: number;
  outputTokens?: number;
}

/** Pricing a model that has no rule while PRICING_STRICT is on (422). */
export function unknownModel(modelId: string): DomainError {
  return new DomainError('PRICING_UNKNOWN_MODEL', `No price for model ${modelId}`, { modelId });
}

/** A rule as the cache keeps it: times as epoch ms for cheap comparisons. */
interface CachedRule {
  view: PricingRuleView;
  from: number;
  to: number;
}

function toView(rule: PricingRule): PricingRuleView {
  return {
    id: rule.id,
    modelId: rule.modelId,
    pricePer1kTokens: normalisePrice(rule.pricePer1kTokens),
    outputPricePer1kTokens: rule.outputPricePer1kTokens === null ? null : normalisePrice(rule.outputPricePer1kTokens),
    providerCostPer1kTokens:
      rule.providerCostPer1kTokens === null ? null : normalisePrice(rule.providerCostPer1kTokens),
    effectiveFrom: rule.effectiveFrom.toISOString(),
    effectiveTo: rule.effectiveTo?.toISOString() ?? null,
    createdBy: rule.createdBy,
    createdAt: rule.createdAt.toISOString(),
  };
}

/**
 * Effective-dated prices per model. All rules are small, so they are cached in memory: reloaded
 * after `PRICING_CACHE_TTL_MS` (bounds staleness across instances) and at once after a change here.
 */
@Injectable()
export class PricingService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Pricing');
  private cache: { byModel: Map<string, CachedRule[]>; loadedAt: number } | null = null;
  private loading: Promise<Map<string, CachedRule[]>> | null = null;
  /** Bumped on every change, so a load that started before it never caches stale rules. */
  private generation = 0;

  constructor(
    private readonly repository: PricingRepository,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Warm the cache so the first priced requests do not wait for it. */
  async onApplicationBootstrap(): Promise<void> {
    await this.reload().catch((err: unknown) => this.logger.warn({ msg: 'pricing warm-up failed', err: String(err) }));
  }

  /** Prices tokens exactly with the rule in effect at `at` (default now). */
  async quote(modelId: string, tokens: QuoteTokens, at: Date = new Date()): Promise<Quote> {
    const price = await this.priceAt(modelId, at);
    const input =
      tokens.inputTokens !== undefined || tokens.outputTokens !== undefined
        ? (tokens.inputTokens ?? 0)
        : (tokens.tokens ?? 0);
    const output =
      tokens.inputTokens !== undefined || tokens.outputTokens !== undefined ? (tokens.outputTokens ?? 0) : 0;
    const credits = calculateCredits(
      { inputTokens: input, outputTokens: output },
      price.pricePer1kTokens,
      price.outputPricePer1kTokens,
    );
    if (credits > BigInt(MAX_CREDITS))
      throw new DomainError('VALIDATION', 'The token count prices beyond the largest credit amount');
    return {
      modelId,
      credits: Number(credits),
      pricePer1kTokens: price.pricePer1kTokens,
      outputPricePer1kTokens: price.outputPricePer1kTokens,
      pricingRuleId: price.pricingRuleId,
      providerCost:
        price.providerCostPer1kTokens === null ? null : providerCost(input + output, price.providerCostPer1kTokens),
      source: price.source,
    };
  }

  /** The price of a model at an instant: its rule, else the default (or 422 in strict mode). */
  async priceAt(modelId: string, at: Date = new Date()): Promise<PriceView> {
    const rule = this.ruleAt(await this.rules(), modelId, at.getTime());
    if (rule) {
      return {
        modelId,
        pricePer1kTokens: rule.pricePer1kTokens,
        outputPricePer1kTokens: rule.outputPricePer1kTokens ?? rule.pricePer1kTokens,
        providerCostPer1kTokens: rule.providerCostPer1kTokens,
        pricingRuleId: rule.id,
        source: 'rule',
        effectiveFrom: rule.effectiveFrom,
        effectiveTo: rule.effectiveTo,
      };
    }
    const price = this.fallbackPrice();
    if (price === null) throw unknownModel(modelId);
    return {
      modelId,
      pricePer1kTokens: price,
      outputPricePer1kTokens: price,
      providerCostPer1kTokens: null,
      pricingRuleId: null,
      source: 'default',
      effectiveFrom: null,
      effectiveTo: null,
    };
  }

  /**
   * The price of a model without a rule (input and output alike): the default, or null in strict
   * mode, where pricing such a model is refused (`unknownModel`, 422).
   */
  fallbackPrice(): string | null {
    return this.config.pricing.strict ? null : normalisePrice(this.config.pricing.defaultPricePer1kTokens);
  }

  /** The rules in effect now, one per model, ordered by model id. */
  async current(): Promise<PricingRuleView[]> {
    const now = Date.now();
    const byModel = await this.rules();
    const result: PricingRuleView[] = [];
    for (const modelId of [...byModel.keys()].sort()) {
      const rule = this.ruleAt(byModel, modelId, now);
      if (rule) result.push(rule);
    }
    return result;
  }

  /** Every rule of a model, newest effectiveFrom first (read from the database, not the cache). */
  async history(modelId: string): Promise<PricingRuleView[]> {
    return (await this.repository.history(modelId)).map(toView);
  }

  /**
   * Adds a rule and closes the model's open rule at the new effectiveFrom, in one transaction
   * (serialised per model). A rule that would overlap another is refused by the database → 409.
   */
  async create(input: {
    modelId: string;
    pricePer1kTokens: string;
    outputPricePer1kTokens?: string | null;
    providerCostPer1kTokens?: string | null;
    effectiveFrom?: Date;
    effectiveTo?: Date | null;
    createdBy: string;
  }): Promise<PricingRuleView> {
    const from = input.effectiveFrom ?? new Date();
    if (input.effectiveTo && input.effectiveTo.getTime() <= from.getTime()) {
      throw new DomainError('VALIDATION', 'effectiveTo must be after effectiveFrom');
    }
    try {
      const rule = await this.tx.run(async (manager) => {
        await this.repository.lockModel(manager, input.modelId);
        await this.repository.closeOpenRule(manager, input.modelId, from);
        const created = await this.repository.insert(manager, {
          modelId: input.modelId,
          pricePer1kTokens: input.pricePer1kTokens,
          outputPricePer1kTokens: input.outputPricePer1kTokens ?? null,
          providerCostPer1kTokens: input.providerCostPer1kTokens ?? null,
          effectiveFrom: from,
          effectiveTo: input.effectiveTo ?? null,
          createdBy: input.createdBy,
        });
        await this.audit.record(manager, {
          action: 'pricing.create',
          targetId: created.id,
          before: null,
          after: toView(created),
        });
        return created;
      });
      return toView(rule);
    } finally {
      this.invalidate();
    }
  }

  /** Forget the cached rules (next read reloads). */
  invalidate(): void {
    this.generation++;
    this.cache = null;
    this.loading = null;
  }

  private ruleAt(byModel: Map<string, CachedRule[]>, modelId: string, t: number): PricingRuleView | null {
    // Rules are sorted newest effectiveFrom first, so the first match is the latest one.
    for (const rule of byModel.get(modelId) ?? []) {
      if (rule.from <= t && t < rule.to) return rule.view;
    }
    return null;
  }

  private async rules(): Promise<Map<string, CachedRule[]>> {
    const ttl = this.config.pricing.cacheTtlMs;
    const age = this.cache ? this.clock.now() - this.cache.loadedAt : Number.POSITIVE_INFINITY;
    if (this.cache && age < ttl) {
      // Refresh ahead in the background during the second half of the TTL, so requests under steady
      // load never wait for a load (one waiting inside an Idempotency-Key transaction would hold a
      // pool connection while needing another); staleness stays bounded by the TTL.
      if (age >= ttl / 2) {
        this.reload().catch((err: unknown) => this.logger.warn({ msg: 'pricing refresh failed', err: String(err) }));
      }
      return this.cache.byModel;
    }
    return this.reload();
  }

  /** One load at a time; concurrent callers share it. */
  private reload(): Promise<Map<string, CachedRule[]>> {
    if (!this.loading) {
      const loading = this.load().finally(() => {
        if (this.loading === loading) this.loading = null;
      });
      this.loading = loading;
    }
    return this.loading;
  }

  private async load(): Promise<Map<string, CachedRule[]>> {
    const startedAt = this.clock.now();
    const generation = this.generation;
    const rules = await this.repository.all();
    const byModel = new Map<string, CachedRule[]>();
    for (const rule of rules) {
      const list = byModel.get(rule.modelId) ?? [];
      list.push({
        view: toView(rule),
        from: rule.effectiveFrom.getTime(),
        to: rule.effectiveTo?.getTime() ?? Number.POSITIVE_INFINITY,
      });
      byModel.set(rule.modelId, list);
    }
    if (generation === this.generation) this.cache = { byModel, loadedAt: startedAt };
    return byModel;
  }
}
