import { Inject, Injectable } from '@nestjs/common';

import { CLOCK, type Clock } from '../../common/clock.js';
import { DomainError } from '../../common/errors/domain-error.js';
import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { CatalogListResponseDto, CatalogModelDto, ImportCatalogResponseDto } from '../dto/catalog.dto.js';
import type { PricingRuleFieldsDto } from '../dto/pricing.dto.js';
import { PricingService } from '../pricing.service.js';
import { PricingCache } from '../pricing-cache.js';
import type { PricingRuleView } from '../pricing-rules.js';
import type { CatalogModel, CatalogPriceRow, CatalogSetRow } from './catalog-index.js';
import { catalogPriceFields, catalogPricesOf } from './catalog-kinds.js';
import { catalogPrice, catalogRuleView, providerOrder } from './catalog-pricing.js';

/** The catalogue model's period in force at `t`. */
const periodAt = (model: CatalogModel, t: number): CatalogPriceRow | undefined =>
  model.periods.find((p) => p.from <= t && t < p.to);

/**
 * The price catalogue as the operator sees it (docs/pricing.md "The price catalogue"): its models at
 * their credit prices now, turned into ordinary rules on request, and what the gateway asks of it (a
 * model's price as a rule, its context window).
 */
@Injectable()
export class CatalogService {
  constructor(
    private readonly cache: PricingCache,
    @Inject(PricingService) private readonly pricing: PricingService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** The set in force now, and the providers that price, in order. */
  private async now(): Promise<{
    set: CatalogSetRow | null;
    t: number;
    snapshot: Awaited<ReturnType<PricingCache['snapshot']>>;
  }> {
    const snapshot = await this.cache.snapshot();
    const t = this.clock.now();
    return { set: snapshot.catalog.setAt(t), t, snapshot };
  }

  /** GET /api/pricing/catalog: the catalogue's models of the pricing providers (or one), filtered by `q`. */
  async list(query: { provider?: string; q?: string }): Promise<CatalogListResponseDto> {
    const { providers, creditsPerUsd, markupPercent } = this.config.pricing.catalog;
    const { set, t, snapshot } = await this.now();
    const items: CatalogModelDto[] = [];
    if (set) {
      const rules = new Map((await this.pricing.current()).map((r) => [r.modelId, r.id]));
      const q = query.q?.toLowerCase();
      for (const provider of query.provider ? [query.provider] : providers) {
        for (const model of snapshot.catalog.modelsOf(set.id, provider)) {
          if (q && !model.catalogModel.toLowerCase().includes(q) && !(model.name ?? '').toLowerCase().includes(q))
            continue;
          const row = periodAt(model, t);
          if (!row) continue;
          items.push({
            provider,
            model: model.catalogModel,
            name: model.name,
            prices: {
              ...catalogPricesOf(row),
              longContextThreshold: row.longContext?.threshold ?? null,
              longContextInput: row.longContext?.input ?? null,
              longContextOutput: row.longContext?.output ?? null,
            },
            contextWindow: model.contextWindow,
            version: set.version,
            effectiveFrom: new Date(Math.max(set.from, row.from)).toISOString(),
            overriddenBy: rules.get(model.catalogModel) ?? null,
          });
        }
      }
    }
    return { version: set?.version ?? null, providers, creditsPerUsd, markupPercent, items };
  }

  /**
   * POST /api/pricing/catalog/import: the named catalogue models (or every model of a provider) as
   * ordinary rules under their catalogue ids, at their prices now, from `effectiveFrom` (a price sheet:
   * all or none, audit `pricing.catalog.import`).
   */
  async import(input: {
    models?: string[];
    provider?: string;
    effectiveFrom?: Date;
    createdBy: string;
  }): Promise<ImportCatalogResponseDto> {
    const { set, t, snapshot } = await this.now();
    if (!set)
      throw new DomainError('VALIDATION', 'The price catalogue is off (PRICE_CATALOG=false): nothing to import');
    const every = [...new Set([...this.config.pricing.catalog.providers, ...snapshot.catalog.providersOf(set.id)])];
    const chosen: { model: CatalogModel; row: CatalogPriceRow }[] = [];
    if (input.provider !== undefined) {
      for (const model of snapshot.catalog.modelsOf(set.id, input.provider)) {
        const row = periodAt(model, t);
        if (row) chosen.push({ model, row });
      }
      if (chosen.length === 0)
        throw new DomainError('VALIDATION', `The catalogue has no model of provider ${input.provider}`);
    } else {
      const missing: string[] = [];
      for (const id of new Set(input.models ?? [])) {
        const found = every
          .flatMap((p) => snapshot.catalog.modelsOf(set.id, p))
          .find((m) => m.catalogModel === id && periodAt(m, t));
        if (found) chosen.push({ model: found, row: periodAt(found, t)! });
        else missing.push(id);
      }
      if (missing.length > 0)
        throw new DomainError('VALIDATION', `Not in the catalogue: ${missing.join(', ')}`, { models: missing });
    }
    const seen = new Set<string>();
    const rules: PricingRuleFieldsDto[] = [];
    for (const { model, row } of chosen) {
      if (seen.has(model.catalogModel)) continue;
      seen.add(model.catalogModel);
      rules.push({
        modelId: model.catalogModel,
        ...catalogPriceFields(row),
        ...(row.longContext === null
          ? {}
          : {
              longContextThreshold: row.longContext.threshold,
              longContextPricePer1kTokens: row.longContext.input,
              longContextOutputPricePer1kTokens: row.longContext.output,
            }),
      });
    }
    return this.pricing.import({
      rules,
      effectiveFrom: input.effectiveFrom,
      createdBy: input.createdBy,
      action: 'pricing.catalog.import',
    });
  }

  /**
   * The price of a model now as a rule: its operator rule, else the catalogue's (the upstream's
   * provider tried first), else undefined (the gateway's MODEL_NOT_FOUND names a missing price).
   */
  async ruleNow(modelId: string, provider: string | null): Promise<PricingRuleView | undefined> {
    const rule = (await this.pricing.current()).find((r) => r.modelId === modelId);
    if (rule) return rule;
    const { t, snapshot } = await this.now();
    const price = catalogPrice(snapshot.catalog, this.config.pricing.catalog, modelId, t, provider);
    return price ? catalogRuleView(modelId, price) : undefined;
  }

  /**
   * The catalogue's context window of a model now (the first pricing provider's entry that accepts
   * it, `provider` first), or null when the catalogue is off, prices no such model or knows no window.
   * The gateway's input bound falls back to it when the model's rule sets no `contextWindow`.
   */
  async catalogContextWindow(modelId: string, provider: string | null = null): Promise<number | null> {
    const { enabled, providers } = this.config.pricing.catalog;
    if (!enabled) return null;
    const { set, snapshot } = await this.now();
    if (!set) return null;
    return snapshot.catalog.modelFor(set.id, modelId, providerOrder(providers, provider))?.contextWindow ?? null;
  }

  /** The catalogue's models now that the pricing providers price (each catalogue id once), for the gateway's model list. */
  async pricedModels(): Promise<{ model: string; from: number }[]> {
    const { set, t, snapshot } = await this.now();
    if (!set || !this.config.pricing.catalog.enabled) return [];
    const out = new Map<string, number>();
    for (const provider of this.config.pricing.catalog.providers)
      for (const model of snapshot.catalog.modelsOf(set.id, provider)) {
        const row = periodAt(model, t);
        if (row && !out.has(model.catalogModel)) out.set(model.catalogModel, Math.max(set.from, row.from));
      }
    return [...out].map(([model, from]) => ({ model, from }));
  }

  /** The catalogue in force now: its version and how many models the pricing providers have (null: off). */
  async summary(): Promise<{ version: string; models: number } | null> {
    const { set } = await this.now();
    if (!set || !this.config.pricing.catalog.enabled) return null;
    return { version: set.version, models: (await this.pricedModels()).length };
  }
}
