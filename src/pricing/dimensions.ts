/**
 * Pricing dimensions beyond tokens (docs/pricing.md "Service tiers", "Units"): the one home of their
 * names, shapes and checks. A tier or a unit is data of the rule (`serviceTiers`, `unitPrices`), never
 * code: pricing-math.ts prices them, pricing.sql.ts is its SQL twin. It reads prices as text
 * (price-text.ts), never pricing-math.ts, which reads it.
 */
import { DomainError } from '../common/errors/domain-error.js';
import { isObject } from '../common/is-object.js';
import { MAX_TOKENS } from '../common/validation/amounts.js';
import { normalisePrice, PRICE_PATTERN } from './price-text.js';

/** `{"<tier>": {"pricePercent": "50.00"}}` as stored and answered (2-place strings). */
export type ServiceTiers = Record<string, { pricePercent: string }>;
/** `{"<unit>": "10.0000"}`: credits per unit, 4- to 10-place strings. */
export type UnitPrices = Record<string, string>;
/** `{"<unit>": count}` of a metered write. */
export type Units = Record<string, number>;

/** What a metered write names beyond its tokens. */
export interface Dimensions {
  /** null: the base prices. */
  serviceTier: string | null;
  /** null: no unit. */
  units: Units | null;
}

export const NO_DIMENSIONS: Readonly<Dimensions> = Object.freeze({ serviceTier: null, units: null });

export const TIER_PATTERN = /^[a-z0-9_-]{1,32}$/;
export const UNIT_PATTERN = /^[a-z0-9_.:-]{1,64}$/;
/** The tiers that are the base prices: never a rule's own. */
export const BASE_TIERS: readonly string[] = ['default', 'standard'];
/** initialize's tier when the provider picks it: held at the most expensive tier, settled at the one named. */
export const AUTO_TIER = 'auto';
const PERCENT_PATTERN = /^\d{1,4}(\.\d{1,2})?$/;
/** The most names a write's units, a rule's tiers and a rule's unit prices may carry. */
export const MAX_UNIT_NAMES = 20;
export const MAX_RULE_TIERS = 20;
export const MAX_RULE_UNITS = 100;
/** A tier's factor when it is the base prices: 100 %, in hundredths of a percent. */
export const BASE_PERCENT = 10_000n;

/** A price or percent given as a string or a number. */
const decimalText = (value: unknown): string | null =>
  typeof value === 'string' ? value.trim() : typeof value === 'number' && Number.isFinite(value) ? String(value) : null;

/** "50" → "50.00". */
function normalisePercent(text: string): string {
  const [whole, fraction = ''] = text.split('.');
  return `${BigInt(whole)}.${fraction.padEnd(2, '0')}`;
}

/** A rule's `serviceTiers` normalised (percents as 2-place strings), or what is wrong with it. */
export function checkServiceTiers(value: unknown): { tiers: ServiceTiers } | { problem: string } {
  if (!isObject(value)) return { problem: 'serviceTiers must be an object {"<tier>": {pricePercent}}' };
  const names = Object.keys(value);
  if (names.length > MAX_RULE_TIERS) return { problem: `serviceTiers may name at most ${MAX_RULE_TIERS} tiers` };
  const tiers: ServiceTiers = {};
  for (const name of names.sort()) {
    if (!TIER_PATTERN.test(name)) return { problem: `serviceTiers: "${name}" must be 1–32 of a-z 0-9 _ -` };
    if (BASE_TIERS.includes(name) || name === AUTO_TIER)
      return { problem: `serviceTiers: "${name}" is not a tier of its own (default and standard are the base prices)` };
    const tier = value[name];
    const keys = isObject(tier) ? Object.keys(tier) : [];
    const text = isObject(tier) ? decimalText(tier.pricePercent) : null;
    if (keys.some((key) => key !== 'pricePercent') || text === null || !PERCENT_PATTERN.test(text))
      return { problem: `serviceTiers.${name} must be {pricePercent} with pricePercent 0–1000, at most 2 places` };
    const percent = normalisePercent(text);
    if (percentHundredths(percent) > 100_000n)
      return { problem: `serviceTiers.${name}.pricePercent must be at most 1000` };
    tiers[name] = { pricePercent: percent };
  }
  return { tiers };
}

/** A rule's (or an account price's) `unitPrices` normalised (4- to 10-place strings), or what is wrong with it. */
export function checkUnitPrices(value: unknown): { prices: UnitPrices } | { problem: string } {
  if (!isObject(value)) return { problem: 'unitPrices must be an object {"<unit>": price}' };
  const names = Object.keys(value);
  if (names.length > MAX_RULE_UNITS) return { problem: `unitPrices may name at most ${MAX_RULE_UNITS} units` };
  const prices: UnitPrices = {};
  for (const name of names.sort()) {
    if (!UNIT_PATTERN.test(name)) return { problem: `unitPrices: "${name}" must be 1–64 of a-z 0-9 _ . : -` };
    const text = decimalText(value[name]);
    if (text === null || !PRICE_PATTERN.test(text))
      return { problem: `unitPrices.${name} must be a decimal ≥ 0 with at most 10 places (below 1,000,000)` };
    prices[name] = normalisePrice(text);
  }
  return { prices };
}

/** A write's `units`, or what is wrong with it. */
export function unitsProblem(value: unknown): string | null {
  if (!isObject(value)) return 'units must be an object {"<unit>": count}';
  const names = Object.keys(value);
  if (names.length > MAX_UNIT_NAMES) return `units may name at most ${MAX_UNIT_NAMES} units`;
  for (const name of names) {
    if (!UNIT_PATTERN.test(name)) return `units: "${name}" must be 1–64 of a-z 0-9 _ . : -`;
    const count = value[name];
    if (!Number.isSafeInteger(count) || (count as number) < 0 || (count as number) > MAX_TOKENS)
      return `units.${name} must be an integer from 0 to ${MAX_TOKENS}`;
  }
  return null;
}

/** A write's `serviceTier`, or what is wrong with it. */
export function tierProblem(value: unknown): string | null {
  return typeof value === 'string' && TIER_PATTERN.test(value) ? null : 'serviceTier must be 1–32 of a-z 0-9 _ -';
}

/** "12.5" → 1250n: a percent with at most 2 places in hundredths. */
export function percentHundredths(percent: string): bigint {
  const [whole, fraction = ''] = percent.split('.');
  return BigInt(whole) * 100n + BigInt(fraction.padEnd(2, '0'));
}

/** Whether a tier name is the base prices (absent, default, standard, or auto once it is settled). */
export function isBaseTier(tier: string | null | undefined): boolean {
  return tier === null || tier === undefined || tier === AUTO_TIER || BASE_TIERS.includes(tier);
}

export function unknownServiceTier(tier: string, modelId?: string): DomainError {
  return new DomainError(
    'UNKNOWN_SERVICE_TIER',
    `Service tier ${tier} has no price${modelId ? ` for model ${modelId}` : ''}`,
    { serviceTier: tier, ...(modelId ? { modelId } : {}) },
  );
}

export function unpricedUnit(unit: string, modelId?: string): DomainError {
  return new DomainError('UNPRICED_UNIT', `Unit ${unit} has no price${modelId ? ` for model ${modelId}` : ''}`, {
    unit,
    ...(modelId ? { modelId } : {}),
  });
}

/**
 * The tier a hold of `auto` is priced at: the rule's most expensive tier, or the base prices (null)
 * when none costs more than them.
 */
export function worstTier(tiers: ServiceTiers): string | null {
  let worst: string | null = null;
  let most = BASE_PERCENT;
  for (const [name, { pricePercent }] of Object.entries(tiers)) {
    const hundredths = percentHundredths(pricePercent);
    if (hundredths > most) [worst, most] = [name, hundredths];
  }
  return worst;
}

/** The units a write names, null when it names none (an empty object is none). */
export function unitsOrNull(units: Units | null | undefined): Units | null {
  return units && Object.keys(units).length > 0 ? units : null;
}

/** Two writes' units added up (a body's own and those its provider usage reports). */
export function addUnits(a: Units | null, b: Units | null): Units | null {
  if (a === null) return unitsOrNull(b);
  if (b === null) return unitsOrNull(a);
  const sum: Units = { ...a };
  for (const [name, count] of Object.entries(b)) sum[name] = (sum[name] ?? 0) + count;
  return unitsOrNull(sum);
}
