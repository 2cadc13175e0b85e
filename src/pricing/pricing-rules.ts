import { DomainError } from '../common/errors/domain-error.js';
import { checkServiceTiers, checkUnitPrices, type ServiceTiers, type UnitPrices } from './dimensions.js';
import type { PricingRuleFieldsDto } from './dto/pricing.dto.js';
import type { PricingRule } from './entities/pricing-rule.entity.js';
import type { KindPrices, RulePrices } from './pricing-math.js';
import { normalisePrice } from './pricing-math.js';
import { perCostField } from './token-kinds.js';
import { checkVolume, type VolumeSteps } from './volume-steps.js';

/** A rule's prices as stored: the columns a rule sets (NULL: the default of docs/money.md "Units and arithmetic"). */
export type RulePriceColumns = Pick<
  PricingRule,
  | 'pricePer1kTokens'
  | 'outputPricePer1kTokens'
  | 'cacheReadPricePer1kTokens'
  | 'cacheWritePricePer1kTokens'
  | 'reasoningPricePer1kTokens'
  | 'longContextThreshold'
  | 'longContextPricePer1kTokens'
  | 'longContextOutputPricePer1kTokens'
  | 'providerCostPer1kTokens'
  | 'providerOutputCostPer1kTokens'
  | 'providerCacheReadCostPer1kTokens'
  | 'providerCacheWriteCostPer1kTokens'
  | 'providerReasoningCostPer1kTokens'
> &
  Partial<Pick<PricingRule, 'serviceTiers' | 'unitPrices' | 'maxOutputTokens' | 'contextWindow' | 'volume'>>;

export const PRICE_COLUMNS = [
  'pricePer1kTokens',
  'outputPricePer1kTokens',
  'cacheReadPricePer1kTokens',
  'cacheWritePricePer1kTokens',
  'reasoningPricePer1kTokens',
  'longContextThreshold',
  'longContextPricePer1kTokens',
  'longContextOutputPricePer1kTokens',
  'providerCostPer1kTokens',
  'providerOutputCostPer1kTokens',
  'providerCacheReadCostPer1kTokens',
  'providerCacheWriteCostPer1kTokens',
  'providerReasoningCostPer1kTokens',
] as const satisfies readonly (keyof RulePriceColumns)[];

/** A rule as answered and cached: prices as 4- to 10-place strings (null: the default), times ISO-8601. */
export interface PricingRuleView extends RulePriceColumns {
  id: string;
  modelId: string;
  /** The provider's cost of each kind, defaults applied; null when the rule has none. */
  providerCost: KindPrices | null;
  serviceTiers: ServiceTiers | null;
  unitPrices: UnitPrices | null;
  /** Volume steps (null: none). */
  volume: VolumeSteps | null;
  /** The gateway's output bound for the model (null: GATEWAY_MAX_OUTPUT_TOKENS). */
  maxOutputTokens: number | null;
  /** The model's context window, the gateway's bound for input the body does not contain (null: none known). */
  contextWindow: number | null;
  effectiveFrom: string;
  effectiveTo: string | null;
  createdBy: string;
  createdAt: string;
}

const price = (value: string | null | undefined): string | null =>
  value === null || value === undefined ? null : normalisePrice(value);

/** The columns of a rule from its request fields; `where` names the rule in errors. */
export function ruleColumns(fields: PricingRuleFieldsDto, where = 'the rule'): RulePriceColumns {
  const tier = [
    fields.longContextThreshold,
    fields.longContextPricePer1kTokens,
    fields.longContextOutputPricePer1kTokens,
  ];
  if (tier.some((v) => v !== undefined) && tier.some((v) => v === undefined)) {
    throw new DomainError(
      'VALIDATION',
      `${where}: a long-context tier needs longContextThreshold, longContextPricePer1kTokens and longContextOutputPricePer1kTokens`,
    );
  }
  if (fields.providerCost !== undefined && fields.providerCostPer1kTokens !== undefined) {
    throw new DomainError('VALIDATION', `${where}: give either providerCost or providerCostPer1kTokens, not both`);
  }
  const cost = fields.providerCost;
  return {
    pricePer1kTokens: normalisePrice(fields.pricePer1kTokens),
    outputPricePer1kTokens: price(fields.outputPricePer1kTokens),
    cacheReadPricePer1kTokens: price(fields.cacheReadPricePer1kTokens),
    cacheWritePricePer1kTokens: price(fields.cacheWritePricePer1kTokens),
    reasoningPricePer1kTokens: price(fields.reasoningPricePer1kTokens),
    longContextThreshold: fields.longContextThreshold ?? null,
    longContextPricePer1kTokens: price(fields.longContextPricePer1kTokens),
    longContextOutputPricePer1kTokens: price(fields.longContextOutputPricePer1kTokens),
    ...perCostField((kind) => price(cost?.[kind])),
    providerCostPer1kTokens: price(cost?.input ?? fields.providerCostPer1kTokens),
    serviceTiers: serviceTiersOf(fields.serviceTiers, where),
    unitPrices: unitPricesOf(fields.unitPrices, where),
    maxOutputTokens: fields.maxOutputTokens ?? null,
    contextWindow: fields.contextWindow ?? null,
    volume: volumeOf(fields.volume, where),
  };
}

/** A rule's volume steps normalised (null: none); `where` names the rule in errors. */
export function volumeOf(value: unknown, where = 'the rule'): VolumeSteps | null {
  if (value === undefined || value === null) return null;
  const checked = checkVolume(value);
  if ('problem' in checked) throw new DomainError('VALIDATION', `${where}: ${checked.problem}`);
  return checked.volume;
}

/** A rule's tiers normalised (null: none); `where` names the rule in errors. */
export function serviceTiersOf(value: unknown, where = 'the rule'): ServiceTiers | null {
  if (value === undefined || value === null) return null;
  const checked = checkServiceTiers(value);
  if ('problem' in checked) throw new DomainError('VALIDATION', `${where}: ${checked.problem}`);
  return Object.keys(checked.tiers).length > 0 ? checked.tiers : null;
}

/** Unit prices normalised (null: none); `where` names the rule or account price in errors. */
export function unitPricesOf(value: unknown, where = 'the rule'): UnitPrices | null {
  if (value === undefined || value === null) return null;
  const checked = checkUnitPrices(value);
  if ('problem' in checked) throw new DomainError('VALIDATION', `${where}: ${checked.problem}`);
  return Object.keys(checked.prices).length > 0 ? checked.prices : null;
}

/** Whether two rules price every kind, tier and unit alike (prices normalised). */
export function samePrices(a: RulePriceColumns, b: RulePriceColumns): boolean {
  return (
    PRICE_COLUMNS.every((column) => a[column] === b[column]) &&
    JSON.stringify(serviceTiersOf(a.serviceTiers)) === JSON.stringify(serviceTiersOf(b.serviceTiers)) &&
    JSON.stringify(unitPricesOf(a.unitPrices)) === JSON.stringify(unitPricesOf(b.unitPrices)) &&
    (a.maxOutputTokens ?? null) === (b.maxOutputTokens ?? null) &&
    (a.contextWindow ?? null) === (b.contextWindow ?? null) &&
    JSON.stringify(volumeOf(a.volume)) === JSON.stringify(volumeOf(b.volume))
  );
}

export function toView(rule: PricingRule): PricingRuleView {
  const columns = {} as Record<string, string | number | null>;
  for (const column of PRICE_COLUMNS) {
    const value = rule[column];
    columns[column] = column === 'longContextThreshold' || value === null ? value : normalisePrice(value);
  }
  const view = {
    ...(columns as unknown as RulePriceColumns),
    serviceTiers: serviceTiersOf(rule.serviceTiers),
    unitPrices: unitPricesOf(rule.unitPrices),
    volume: volumeOf(rule.volume),
  };
  return {
    maxOutputTokens: rule.maxOutputTokens ?? null,
    contextWindow: rule.contextWindow ?? null,
    id: rule.id,
    modelId: rule.modelId,
    ...view,
    providerCost: providerCosts(view),
    effectiveFrom: rule.effectiveFrom.toISOString(),
    effectiveTo: rule.effectiveTo?.toISOString() ?? null,
    createdBy: rule.createdBy,
    createdAt: rule.createdAt.toISOString(),
  };
}

/** Each kind's price, defaults applied: cache → the input price, reasoning → the output price. */
export function rulePrices(rule: RulePriceColumns): RulePrices {
  const input = rule.pricePer1kTokens;
  const output = rule.outputPricePer1kTokens ?? input;
  return {
    input,
    output,
    cacheRead: rule.cacheReadPricePer1kTokens ?? input,
    cacheWrite: rule.cacheWritePricePer1kTokens ?? input,
    reasoning: rule.reasoningPricePer1kTokens ?? output,
    longContext:
      rule.longContextThreshold === null
        ? null
        : {
            threshold: rule.longContextThreshold,
            input: rule.longContextPricePer1kTokens!,
            output: rule.longContextOutputPricePer1kTokens!,
          },
    serviceTiers: rule.serviceTiers ?? {},
    unitPrices: rule.unitPrices ?? {},
  };
}

/** The provider's cost of each kind, defaults applied (cache → input, output → input, reasoning → output). */
export function providerCosts(rule: RulePriceColumns): KindPrices | null {
  const input = rule.providerCostPer1kTokens;
  if (input === null) return null;
  const output = rule.providerOutputCostPer1kTokens ?? input;
  return {
    input,
    output,
    cacheRead: rule.providerCacheReadCostPer1kTokens ?? input,
    cacheWrite: rule.providerCacheWriteCostPer1kTokens ?? input,
    reasoning: rule.providerReasoningCostPer1kTokens ?? output,
  };
}
