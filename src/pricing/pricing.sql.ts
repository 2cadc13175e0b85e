/**
 * The arithmetic of pricing-math.ts as SQL expressions, for statements that price inside the
 * database (a streaming settlement prices its tokens at the session's rule in the statement that
 * settles it). `rule` is the alias of a pricing_rules row, all NULL when there is none (the
 * default price applies); the other arguments are SQL expressions.
 *
 * Exact in numeric: prices have up to 10 places, a discount 2, and dividing by 100 or 1000 is multiplying by
 * 0.01 or 0.001, so nothing is ever rounded but the final ceil (a numeric division would round to its
 * own scale).
 * test/pricing-sql.int-spec.ts compares them with pricing-math.ts.
 */
import { AUTO_TIER, BASE_TIERS } from './dimensions.js';
import { TOKEN_KINDS, type TokenKind } from './pricing-math.js';
import { PROMPT_KINDS } from './token-kinds.js';

/** SQL expressions of the token count of each kind (integers). */
export type SqlKinds = Record<TokenKind, string>;

/** The price of each kind at the rule `r` (defaults as docs/money.md "Units and arithmetic" says; no rule: the default price). */
function kindPricesSql(r: string, defaultPrice: string): Record<TokenKind, string> {
  return {
    input: `COALESCE(${r}.price_per_1k_tokens, ${defaultPrice})`,
    output: `COALESCE(${r}.output_price_per_1k_tokens, ${r}.price_per_1k_tokens, ${defaultPrice})`,
    cacheRead: `COALESCE(${r}.cache_read_price_per_1k_tokens, ${r}.price_per_1k_tokens, ${defaultPrice})`,
    cacheWrite: `COALESCE(${r}.cache_write_price_per_1k_tokens, ${r}.price_per_1k_tokens, ${defaultPrice})`,
    reasoning: `COALESCE(${r}.reasoning_price_per_1k_tokens, ${r}.output_price_per_1k_tokens, ${r}.price_per_1k_tokens, ${defaultPrice})`,
  };
}

/** Each kind's price column, in pricing_rules and account_prices alike. */
const PRICE_COLUMN: Record<TokenKind, string> = {
  input: 'price_per_1k_tokens',
  output: 'output_price_per_1k_tokens',
  cacheRead: 'cache_read_price_per_1k_tokens',
  cacheWrite: 'cache_write_price_per_1k_tokens',
  reasoning: 'reasoning_price_per_1k_tokens',
};

/** SQL expressions of a write's service tier (varchar, NULL: the base prices) and units (jsonb, NULL: none). */
export interface SqlDimensions {
  tier: string;
  units: string;
}

/** The tier names that are the base prices (auto too, once settled), as a SQL array. */
const BASE_TIERS_SQL = `'{${[...BASE_TIERS, AUTO_TIER].join(',')}}'::text[]`;

/**
 * The tier's factor on every price (pricePercent × 0.01; 1 for the base prices, and for a tier the rule
 * lacks, which the live routes refuse before: dimensionProblemsSql).
 */
function tierFactorSql(rule: string, tier: string): string {
  return `CASE WHEN ${tier} IS NULL OR ${tier} = ANY (${BASE_TIERS_SQL}) THEN 1
    ELSE COALESCE((${rule}.service_tiers -> ${tier} ->> 'pricePercent')::numeric * 0.01, 1) END`;
}

/** Σ count × unit price (an account price's over the rule's; a unit neither prices counts 0, refused before). */
function unitsSql(rule: string, units: string, accountPrice?: string): string {
  const own = accountPrice ? `(${accountPrice}.unit_prices ->> u.key)::numeric, ` : '';
  return `(SELECT COALESCE(sum(u.value::numeric * COALESCE(${own}(${rule}.unit_prices ->> u.key)::numeric, 0)), 0)
             FROM jsonb_each_text(${units}) u)`;
}

/**
 * What pricing the dimensions at the rule (and account price) would refuse, as two columns:
 * `unknown_tier` (boolean) and `unpriced_unit` (the first unit neither prices, or NULL).
 */
export function dimensionProblemsSql(rule: string, dimensions: SqlDimensions, accountPrice?: string): string {
  const { tier, units } = dimensions;
  const own = accountPrice ? `COALESCE(${accountPrice}.unit_prices ? u.key, false) OR ` : '';
  return `(${tier} IS NOT NULL AND NOT ${tier} = ANY (${BASE_TIERS_SQL})
             AND NOT COALESCE(${rule}.service_tiers ? ${tier}, false)) AS unknown_tier,
          (SELECT min(u.key) FROM jsonb_object_keys(${units}) u(key)
            WHERE NOT (${own}COALESCE(${rule}.unit_prices ? u.key, false))) AS unpriced_unit`;
}

/**
 * credits = ceil((Σ tokens of each kind × its price / 1000 + Σ count × unit price) × tier × factor);
 * numeric, may exceed integer. When
 * the rule has a long-context tier and the prompt (input + cache read + cache write) exceeds it, input
 * and output cost the tier's prices. With `accountPrice` (the alias of an account_prices row, all NULL
 * when none applies; account-prices.ts applyAccountPrice is its TypeScript twin): the kinds it prices
 * replace the rule's, its tier the rule's, and its discount is the factor `(100 − discount) / 100` on
 * the sum, so the credits are rounded up once.
 */
export function creditsSql(
  rule: string,
  tokens: SqlKinds,
  defaultPrice: string,
  accountPrice?: string,
  dimensions?: SqlDimensions,
): string {
  return `ceil(${exactCreditsSql(rule, tokens, defaultPrice, accountPrice, dimensions)})`;
}

/**
 * creditsSql() before its rounding: the exact numeric credits, what a rule with volume steps hands
 * the engine as the record's `base` (credit_volume_price()).
 */
export function exactCreditsSql(
  rule: string,
  tokens: SqlKinds,
  defaultPrice: string,
  accountPrice?: string,
  dimensions?: SqlDimensions,
): string {
  const price = kindPricesSql(rule, defaultPrice);
  const tier = (column: string) =>
    accountPrice ? `COALESCE(${accountPrice}.${column}, ${rule}.${column})` : `${rule}.${column}`;
  if (accountPrice) {
    for (const kind of TOKEN_KINDS) price[kind] = `COALESCE(${accountPrice}.${PRICE_COLUMN[kind]}, ${price[kind]})`;
  }
  const threshold = tier('long_context_threshold');
  const long = `${threshold} IS NOT NULL
    AND ${PROMPT_KINDS.map((kind) => `${tokens[kind]}::bigint`).join(' + ')} > ${threshold}`;
  price.input = `CASE WHEN ${long} THEN ${tier('long_context_price_per_1k_tokens')} ELSE ${price.input} END`;
  price.output = `CASE WHEN ${long} THEN ${tier('long_context_output_price_per_1k_tokens')} ELSE ${price.output} END`;
  const factor = accountPrice ? ` * ((100 - COALESCE(${accountPrice}.discount_percent, 0)) * 0.01)` : '';
  if (!dimensions) return `(${weightedSql(tokens, price)})${factor} * 0.001`;
  const units = unitsSql(rule, dimensions.units, accountPrice);
  const serviceTier = tierFactorSql(rule, dimensions.tier);
  return `((${weightedSql(tokens, price)}) * 0.001 + ${units}) * (${serviceTier})${factor}`;
}

/**
 * Σ tokens of each kind × the rule's provider cost of that kind / 1000, with 7 places; NULL when the
 * rule has no provider cost (or there is none). Kinds without their own cost: cache read and write
 * cost the input's, reasoning the output's, output the input's.
 */
export function providerCostSql(rule: string, tokens: SqlKinds): string {
  const input = `${rule}.provider_cost_per_1k_tokens`;
  const output = `COALESCE(${rule}.provider_output_cost_per_1k_tokens, ${input})`;
  const cost: Record<TokenKind, string> = {
    input,
    output,
    cacheRead: `COALESCE(${rule}.provider_cache_read_cost_per_1k_tokens, ${input})`,
    cacheWrite: `COALESCE(${rule}.provider_cache_write_cost_per_1k_tokens, ${input})`,
    reasoning: `COALESCE(${rule}.provider_reasoning_cost_per_1k_tokens, ${output})`,
  };
  return `((${weightedSql(tokens, cost)}) * 0.001)`;
}

function weightedSql(tokens: SqlKinds, price: Record<TokenKind, string>): string {
  return TOKEN_KINDS.map((kind) => `${tokens[kind]}::numeric * ${price[kind]}`).join(' + ');
}

/**
 * A rule's volume steps as the engine takes a write on them (VolumeCharge, credit_volume_price()), or
 * NULL for a rule without: the write's model, total tokens and exact un-rounded credits (`base`), now
 * as its instant, and how long a give-back lasts after the period (`expiryDays`).
 */
export function volumeChargeSql(rule: string, model: string, tokens: string, base: string, expiryDays: string): string {
  return `CASE WHEN ${rule}.volume IS NOT NULL THEN jsonb_build_object(
            'model', ${model}, 'mode', ${rule}.volume ->> 'mode', 'period', ${rule}.volume ->> 'period',
            'steps', (SELECT jsonb_agg(jsonb_build_array(st.v -> 'upTo', st.v -> 'pricePercent') ORDER BY st.o)
                        FROM jsonb_array_elements(${rule}.volume -> 'steps') WITH ORDINALITY AS st(v, o)),
            'tokens', ${tokens}, 'base', ${base}, 'at', NULL, 'expiryDays', ${expiryDays}) END`;
}
