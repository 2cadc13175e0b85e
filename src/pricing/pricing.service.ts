import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

import { AuditService } from '../audit/audit.service.js';
import { CLOCK, type Clock } from '../common/clock.js';
import { DomainError } from '../common/errors/domain-error.js';
import { MAX_CREDITS } from '../common/validation/amounts.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { Transactions } from '../database/transactions.js';
import {
  accountPriceAt,
  type AccountPriceView,
  applyAccountPrice,
  entitled,
  type ModelList,
} from './account-prices.js';
import { catalogPrice, catalogRuleView, type PriceSource } from './catalog/catalog-pricing.js';
import { AUTO_TIER, type Dimensions, isBaseTier, NO_DIMENSIONS, worstTier } from './dimensions.js';
import type { PricingRuleFieldsDto } from './dto/pricing.dto.js';
import type { PricingRule } from './entities/pricing-rule.entity.js';
import { PricingRepository } from './pricing.repository.js';
import { type CachedRule, PricingCache, type PricingSnapshot } from './pricing-cache.js';
import { notEntitled, PAST_EFFECTIVE_FROM_LEEWAY_MS, unknownModel } from './pricing-errors.js';
import {
  checkDimensions,
  EXACT_SCALE,
  exactCredits,
  flatPrices,
  formatExact,
  normalisePrice,
  pricesFor,
  providerCost,
  type TokenKinds,
} from './pricing-math.js';
import { type PricingRuleView, ruleColumns, rulePrices, samePrices, toView } from './pricing-rules.js';
import type { PriceView, Quote } from './pricing-views.js';
import { perPriceField } from './token-kinds.js';

export type { PricingRuleView } from './pricing-rules.js';

/** The id of the account a write bills (an org's when it pays), as the edge resolved it (null: none). */
type Priced = string | null;

export { notEntitled, PAST_EFFECTIVE_FROM_LEEWAY_MS, unknownModel } from './pricing-errors.js';
export type { PriceView, Quote } from './pricing-views.js';

/**
 * Effective-dated prices per model, and per account over them; which models an account may use. What
 * a metered write needs is cached in memory (PricingCache), so pricing and checking it make no
 * statement of their own.
 */
@Injectable()
export class PricingService {
  constructor(
    private readonly cache: PricingCache,
    private readonly repository: PricingRepository,
    @Inject(Transactions) private readonly tx: Transactions,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(AuditService) private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * Prices tokens of each kind, and the write's service tier and units, exactly with the rule in
   * effect at `at` (default now) and, for an account, the account price in force over it
   * (docs/pricing.md "Account prices", "Service tiers", "Units"). A tier the rule lacks →
   * UNKNOWN_SERVICE_TIER, a unit it does not price → UNPRICED_UNIT. `hold`: `auto` is priced at the
   * rule's most expensive tier (a hold at the worst case), which the quote names.
   */
  async quote(
    modelId: string,
    tokens: TokenKinds,
    at: Date = new Date(this.clock.now()),
    account: Priced = null,
    dimensions: Dimensions = NO_DIMENSIONS,
    hold = false,
    /** The catalogue provider to try first (a gateway request's upstream's). */
    provider: string | null = null,
  ): Promise<Quote> {
    const snapshot = await this.cache.snapshot();
    const { rule, fallback, priceSource } = this.ruleOrFallback(snapshot, modelId, at, provider);
    const accountPrice = accountPriceAt(pricesOf(snapshot, account), modelId, at.getTime());
    const { prices, factor } = applyAccountPrice(rule ? rulePrices(rule) : flatPrices(fallback!), accountPrice);
    const pricedAt =
      hold && dimensions.serviceTier === AUTO_TIER
        ? { ...dimensions, serviceTier: worstTier(prices.serviceTiers ?? {}) }
        : dimensions;
    const exact = exactCredits(tokens, prices, factor, pricedAt, modelId);
    const credits = (exact + EXACT_SCALE - 1n) / EXACT_SCALE;
    if (credits > BigInt(MAX_CREDITS))
      throw new DomainError('VALIDATION', 'The token count prices beyond the largest credit amount');
    const costs = rule?.providerCost ?? null;
    const billed = pricesFor(tokens, prices);
    return {
      modelId,
      credits: Number(credits),
      accountPriceId: accountPrice?.id ?? null,
      discountPercent: accountPrice?.discountPercent ?? null,
      pricePer1kTokens: billed.input,
      outputPricePer1kTokens: billed.output,
      pricingRuleId: rule?.id ?? null,
      providerCost: costs === null ? null : providerCost(tokens, costs),
      source: priceSource ? 'catalog' : rule ? 'rule' : 'default',
      priceSource,
      serviceTier: pricedAt.serviceTier,
      volume: rule?.volume ? { steps: rule.volume, exact: formatExact(exact) } : null,
    };
  }

  /**
   * What pricing `dimensions` for the model at `at` would refuse, thrown (UNKNOWN_SERVICE_TIER,
   * UNPRICED_UNIT): a settlement's tier and units checked before its statement, at the rule and account
   * price its session was opened with (those in force when it started).
   */
  async checkDimensions(modelId: string, at: Date, account: Priced, dimensions: Dimensions): Promise<void> {
    if (dimensions.units === null && isBaseTier(dimensions.serviceTier)) return;
    const snapshot = await this.cache.snapshot();
    const rule = this.ruleAt(snapshot.rules, modelId, at.getTime());
    const accountPrice = accountPriceAt(pricesOf(snapshot, account), modelId, at.getTime());
    const { prices } = applyAccountPrice(rule ? rulePrices(rule) : flatPrices('0'), accountPrice);
    checkDimensions(prices, dimensions, modelId);
  }

  /**
   * Whether every model list in force for a write allows the model: the keys' it goes through
   * (`keyLists`), the paying org's own, and the paying account's plan's.
   */
  async entitled(modelId: string | null, account: Priced, keyLists: readonly ModelList[] = []): Promise<boolean> {
    if (!entitled(modelId, keyLists)) return false;
    const lists = listsOf(await this.cache.snapshot(), account);
    return lists === undefined || entitled(modelId, lists);
  }

  /** MODEL_NOT_ENTITLED (403) unless `entitled()` (null: a write naming no model). */
  async assertEntitled(modelId: string | null, account: Priced, keyLists: readonly ModelList[] = []): Promise<void> {
    if (!(await this.entitled(modelId, account, keyLists))) throw notEntitled(modelId);
  }

  /** The account price in force now for an account's model, if any. */
  async accountPriceNow(modelId: string, account: Priced): Promise<AccountPriceView | null> {
    return accountPriceAt(pricesOf(await this.cache.snapshot(), account), modelId, this.clock.now());
  }

  /** The model lists in force for an account beyond its keys' (its org's own, its plan's). */
  async modelListsOf(account: Priced): Promise<ModelList[]> {
    return listsOf(await this.cache.snapshot(), account) ?? [];
  }

  /** The price of a model at an instant: its rule, else the default (or 422 in strict mode). */
  async priceAt(modelId: string, at: Date = new Date(this.clock.now())): Promise<PriceView> {
    const { rule, fallback, priceSource } = this.ruleOrFallback(await this.cache.snapshot(), modelId, at);
    const prices = rule ? rulePrices(rule) : flatPrices(fallback!);
    return {
      modelId,
      ...perPriceField((kind) => prices[kind]),
      longContextThreshold: prices.longContext?.threshold ?? null,
      longContextPricePer1kTokens: prices.longContext?.input ?? null,
      longContextOutputPricePer1kTokens: prices.longContext?.output ?? null,
      providerCostPer1kTokens: rule?.providerCostPer1kTokens ?? null,
      serviceTiers: rule?.serviceTiers ?? null,
      unitPrices: rule?.unitPrices ?? null,
      volume: rule?.volume ?? null,
      pricingRuleId: rule?.id ?? null,
      source: priceSource ? 'catalog' : rule ? 'rule' : 'default',
      priceSource,
      effectiveFrom: rule?.effectiveFrom ?? null,
      effectiveTo: rule?.effectiveTo ?? null,
    };
  }

  /**
   * The model's rule at `at`; else, with PRICE_CATALOG on, the catalogue's price in force then as a
   * rule (`priceSource` set); else the fallback price (422 in strict mode).
   */
  private ruleOrFallback(
    snapshot: PricingSnapshot,
    modelId: string,
    at: Date,
    provider: string | null = null,
  ):
    | { rule: PricingRuleView; fallback: null; priceSource: PriceSource | null }
    | { rule: null; fallback: string; priceSource: null } {
    const rule = this.ruleAt(snapshot.rules, modelId, at.getTime());
    if (rule) return { rule, fallback: null, priceSource: null };
    const catalog = catalogPrice(snapshot.catalog, this.config.pricing.catalog, modelId, at.getTime(), provider);
    if (catalog) return { rule: catalogRuleView(modelId, catalog), fallback: null, priceSource: catalog.source };
    const fallback = this.fallbackPrice();
    if (fallback === null) throw unknownModel(modelId);
    return { rule: null, fallback, priceSource: null };
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
    const byModel = (await this.cache.snapshot()).rules;
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
  assertNotPast(effectiveFrom: Date): void {
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
    const byModel = (await this.cache.snapshot()).rules;
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
    const rule = await this.tx.run(async (manager) => {
      this.invalidateAtCommit();
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
    action?: 'pricing.import' | 'pricing.catalog.import';
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
    const byModel = await this.tx.run(async (manager) => {
      this.invalidateAtCommit();
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
          action: input.action ?? 'pricing.import',
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
  }

  /**
   * Records the plan whose model list now applies to the account's metering (null: none), in the
   * caller's transaction: the plans module's, which starts, changes or ends the account's live
   * subscription. Every instance's cache drops its copy at commit (the table's `pricing_changed`
   * trigger), so the list applies from then on, as the subscription does; this instance's at once
   * (the notification reaches it a moment later, maybe after the caller's next request).
   */
  async setAccountPlan(
    manager: EntityManager,
    accountId: string,
    plan: { id: string; models: string[] | null } | null,
  ): Promise<void> {
    await this.repository.setAccountPlan(manager, accountId, plan);
    this.invalidateAtCommit();
  }

  /** Gives every account on the plan its new model list, in the transaction that changes the plan. */
  async setPlanModels(manager: EntityManager, planId: string, models: string[] | null): Promise<void> {
    await this.repository.setPlanModels(manager, planId, models);
    this.invalidateAtCommit();
  }

  /**
   * In a change's transaction: this instance forgets the cached rules once it commits (never on a
   * rollback), also where the change runs inside a request's own transaction. Every other instance's
   * cache drops its copy at the same commit (the tables' `pricing_changed` notification).
   */
  invalidateAtCommit(): void {
    this.tx.afterCommit(() => this.invalidate());
  }

  /** Forget the cached rules (next read reloads). */
  invalidate(): void {
    this.cache.invalidate();
  }

  private ruleAt(byModel: Map<string, CachedRule[]>, modelId: string, t: number): PricingRuleView | null {
    // Rules are sorted newest effectiveFrom first, so the first match is the latest one.
    for (const rule of byModel.get(modelId) ?? []) {
      if (rule.from <= t && t < rule.to) return rule.view;
    }
    return null;
  }
}

/** An account's prices and its model lists beyond its keys' in the snapshot (none without an account). */
const pricesOf = (s: PricingSnapshot, account: Priced) => (account === null ? undefined : s.accountPrices.get(account));
const listsOf = (s: PricingSnapshot, account: Priced) => (account === null ? undefined : s.modelLists.get(account));
