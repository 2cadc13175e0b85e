import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';

import { AuditService } from '../audit/audit.service.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { DomainError } from '../common/errors/domain-error.js';
import { MAX_CREDITS } from '../common/validation/amounts.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { Transactions } from '../database/transactions.js';
import type { PricingRuleFieldsDto } from './dto/pricing.dto.js';
import type { PricingRule } from './entities/pricing-rule.entity.js';
import { PricingRepository } from './pricing.repository.js';
import {
  calculateCredits,
  flatPrices,
  normalisePrice,
  pricesFor,
  providerCost,
  type TokenKinds,
} from './pricing-math.js';
import { type PricingRuleView, ruleColumns, rulePrices, samePrices, toView } from './pricing-rules.js';

export type { PricingRuleView } from './pricing-rules.js';

export interface Quote {
  modelId: string;
  credits: number;
  pricePer1kTokens: string;
  outputPricePer1kTokens: string;
  pricingRuleId: string | null;
  providerCost: string | null;
  source: 'rule' | 'default';
}

/** A model's price now (GET /api/pricing/:modelId): each kind's price resolved. */
export interface PriceView {
  modelId: string;
  pricePer1kTokens: string;
  outputPricePer1kTokens: string;
  cacheReadPricePer1kTokens: string;
  cacheWritePricePer1kTokens: string;
  reasoningPricePer1kTokens: string;
  longContextThreshold: number | null;
  longContextPricePer1kTokens: string | null;
  longContextOutputPricePer1kTokens: string | null;
  providerCostPer1kTokens: string | null;
  pricingRuleId: string | null;
  source: 'rule' | 'default';
  effectiveFrom: string | null;
  effectiveTo: string | null;
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

/**
 * Effective-dated prices per model. All rules are small, so they are cached in memory: reloaded
 * after `PRICING_CACHE_TTL_MS` (bounds staleness across instances) and at once after a change here.
 */
/** How far before now a new rule's effectiveFrom may lie (clock skew; "now" as the caller wrote it). */
export const PAST_EFFECTIVE_FROM_LEEWAY_MS = 60_000;

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

  /** Prices tokens of each kind exactly with the rule in effect at `at` (default now). */
  async quote(modelId: string, tokens: TokenKinds, at: Date = new Date(this.clock.now())): Promise<Quote> {
    const { rule, fallback } = await this.ruleOrFallback(modelId, at);
    const prices = rule ? rulePrices(rule) : flatPrices(fallback!);
    const credits = calculateCredits(tokens, prices);
    if (credits > BigInt(MAX_CREDITS))
      throw new DomainError('VALIDATION', 'The token count prices beyond the largest credit amount');
    const costs = rule?.providerCost ?? null;
    const billed = pricesFor(tokens, prices);
    return {
      modelId,
      credits: Number(credits),
      pricePer1kTokens: billed.input,
      outputPricePer1kTokens: billed.output,
      pricingRuleId: rule?.id ?? null,
      providerCost: costs === null ? null : providerCost(tokens, costs),
      source: rule ? 'rule' : 'default',
    };
  }

  /** The price of a model at an instant: its rule, else the default (or 422 in strict mode). */
  async priceAt(modelId: string, at: Date = new Date(this.clock.now())): Promise<PriceView> {
    const { rule, fallback } = await this.ruleOrFallback(modelId, at);
    const prices = rule ? rulePrices(rule) : flatPrices(fallback!);
    return {
      modelId,
      pricePer1kTokens: prices.input,
      outputPricePer1kTokens: prices.output,
      cacheReadPricePer1kTokens: prices.cacheRead,
      cacheWritePricePer1kTokens: prices.cacheWrite,
      reasoningPricePer1kTokens: prices.reasoning,
      longContextThreshold: prices.longContext?.threshold ?? null,
      longContextPricePer1kTokens: prices.longContext?.input ?? null,
      longContextOutputPricePer1kTokens: prices.longContext?.output ?? null,
      providerCostPer1kTokens: rule?.providerCostPer1kTokens ?? null,
      pricingRuleId: rule?.id ?? null,
      source: rule ? 'rule' : 'default',
      effectiveFrom: rule?.effectiveFrom ?? null,
      effectiveTo: rule?.effectiveTo ?? null,
    };
  }

  /** The model's rule at `at`, or the fallback price (422 in strict mode). */
  private async ruleOrFallback(
    modelId: string,
    at: Date,
  ): Promise<{ rule: PricingRuleView; fallback: null } | { rule: null; fallback: string }> {
    const rule = this.ruleAt(await this.rules(), modelId, at.getTime());
    if (rule) return { rule, fallback: null };
    const fallback = this.fallbackPrice();
    if (fallback === null) throw unknownModel(modelId);
    return { rule: null, fallback };
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
    const now = this.clock.now();
    const byModel = await this.rules();
    const result: PricingRuleView[] = [];
    for (const modelId of [...byModel.keys()].sort()) {
      const rule = this.ruleAt(byModel, modelId, now);
      if (rule) result.push(rule);
    }
    return result;
  }

  /**
   * Prices are fixed once used (docs/pricing.md): a rule may not start in the past, or records already
   * billed would fall inside a rule they were not priced at. A minute of leeway covers the clock
   * skew between the caller and the service (and "now" as the caller wrote it).
   */
  private assertNotPast(effectiveFrom: Date): void {
    const earliest = this.clock.now() - PAST_EFFECTIVE_FROM_LEEWAY_MS;
    if (effectiveFrom.getTime() < earliest) {
      throw new DomainError(
        'VALIDATION',
        `effectiveFrom must not be in the past (earliest: ${new Date(earliest).toISOString()}): records already ` +
          'billed keep the price they were billed at',
      );
    }
  }

  /**
   * The rules that take effect later (a price announced ahead), soonest first, then by model id: what
   * `current()` cannot show yet, so a scheduled price is never invisible.
   */
  async upcoming(): Promise<PricingRuleView[]> {
    const now = this.clock.now();
    const byModel = await this.rules();
    const later = [...byModel.values()].flat().filter((rule) => rule.from > now);
    later.sort((a, b) => a.from - b.from || a.view.modelId.localeCompare(b.view.modelId));
    return later.map((rule) => rule.view);
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
    fields: PricingRuleFieldsDto;
    effectiveFrom?: Date;
    effectiveTo?: Date | null;
    createdBy: string;
  }): Promise<PricingRuleView> {
    const columns = ruleColumns(input.fields);
    const from = input.effectiveFrom ?? new Date(this.clock.now());
    this.assertNotPast(from);
    if (input.effectiveTo && input.effectiveTo.getTime() <= from.getTime()) {
      throw new DomainError('VALIDATION', 'effectiveTo must be after effectiveFrom');
    }
    try {
      const rule = await this.tx.run(async (manager) => {
        const modelId = input.fields.modelId;
        await this.repository.lockModel(manager, modelId);
        await this.repository.closeOpenRule(manager, modelId, from);
        const created = await this.repository.insert(manager, {
          modelId,
          ...columns,
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

  /**
   * A price sheet: every rule takes effect at the same instant, in ONE transaction (all or none). A
   * rule whose model's open-ended rule (in effect now or from later) already has exactly its prices
   * writes nothing (`unchanged`), so loading the same sheet again, at any instant, changes nothing. Models are locked in id order (no deadlock between
   * two imports); an overlap with a later rule of a model is refused by the database → 409.
   */
  async import(input: {
    rules: PricingRuleFieldsDto[];
    effectiveFrom?: Date;
    createdBy: string;
  }): Promise<{ effectiveFrom: string; created: number; unchanged: number; items: PricingRuleView[] }> {
    const at = input.effectiveFrom ?? new Date(this.clock.now());
    this.assertNotPast(at);
    const seen = new Map<string, number>();
    const sheet = input.rules.map((fields, index) => {
      const where = `rules[${index}] (${fields.modelId})`;
      const first = seen.get(fields.modelId);
      if (first !== undefined) throw new DomainError('VALIDATION', `${where}: the model is also rules[${first}]`);
      seen.set(fields.modelId, index);
      return { modelId: fields.modelId, columns: ruleColumns(fields, where) };
    });
    let created = 0;
    try {
      const byModel = await this.tx.run(async (manager) => {
        const written = new Map<string, PricingRule>();
        for (const { modelId, columns } of [...sheet].sort((a, b) => (a.modelId < b.modelId ? -1 : 1))) {
          await this.repository.lockModel(manager, modelId);
          const open = await this.repository.openRule(manager, modelId);
          if (open && samePrices(toView(open), columns)) {
            written.set(modelId, open);
            continue;
          }
          await this.repository.closeOpenRule(manager, modelId, at);
          const rule = await this.repository.insert(manager, {
            modelId,
            ...columns,
            effectiveFrom: at,
            effectiveTo: null,
            createdBy: input.createdBy,
          });
          written.set(modelId, rule);
          created++;
        }
        // One entry for the whole sheet, when it changed something (a reload of the same sheet does not).
        if (created > 0) {
          await this.audit.record(manager, {
            action: 'pricing.import',
            targetId: at.toISOString(),
            before: null,
            after: {
              effectiveFrom: at.toISOString(),
              rules: sheet.map(({ modelId }) => toView(written.get(modelId)!)),
            },
          });
        }
        return written;
      });
      const items = sheet.map(({ modelId }) => toView(byModel.get(modelId)!));
      return { effectiveFrom: at.toISOString(), created, unchanged: items.length - created, items };
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
