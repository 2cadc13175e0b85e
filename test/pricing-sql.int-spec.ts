import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { MAX_TOKENS } from '../src/common/validation/amounts.js';
import { creditsSql, providerCostSql } from '../src/pricing/pricing.sql.js';
import {
  calculateCredits,
  flatPrices,
  formatPrice,
  providerCost,
  TOKEN_KINDS,
  type TokenKinds,
  trimPlaces,
} from '../src/pricing/pricing-math.js';
import { providerCosts, type RulePriceColumns, rulePrices } from '../src/pricing/pricing-rules.js';

/** The pricing_rules columns the SQL reads, in the order of the unnest below. */
const COLUMNS = [
  ['pricePer1kTokens', 'price_per_1k_tokens'],
  ['outputPricePer1kTokens', 'output_price_per_1k_tokens'],
  ['cacheReadPricePer1kTokens', 'cache_read_price_per_1k_tokens'],
  ['cacheWritePricePer1kTokens', 'cache_write_price_per_1k_tokens'],
  ['reasoningPricePer1kTokens', 'reasoning_price_per_1k_tokens'],
  ['longContextPricePer1kTokens', 'long_context_price_per_1k_tokens'],
  ['longContextOutputPricePer1kTokens', 'long_context_output_price_per_1k_tokens'],
  ['providerCostPer1kTokens', 'provider_cost_per_1k_tokens'],
  ['providerOutputCostPer1kTokens', 'provider_output_cost_per_1k_tokens'],
  ['providerCacheReadCostPer1kTokens', 'provider_cache_read_cost_per_1k_tokens'],
  ['providerCacheWriteCostPer1kTokens', 'provider_cache_write_cost_per_1k_tokens'],
  ['providerReasoningCostPer1kTokens', 'provider_reasoning_cost_per_1k_tokens'],
] as const;

/**
 * The SQL pricing (src/pricing/pricing.sql.ts, used where a settlement prices inside its statement)
 * gives exactly what pricing-math.ts gives, for any token counts of every kind, any prices in range,
 * with and without a long-context tier and provider costs per kind.
 */
describe('pricing in SQL', () => {
  let db: pg.Pool;
  beforeAll(() => {
    db = new pg.Pool({ connectionString: inject('databaseUrl'), max: 1 });
  });
  afterAll(() => db?.end());

  /** A price as NUMERIC(16,10) holds it: 0 … 999999.9999999999, small ones often. */
  const price = fc
    .oneof(fc.bigInt({ min: 0n, max: 100_000_000_000n }), fc.bigInt({ min: 0n, max: 9_999_999_999_999_999n }))
    .map(formatPrice);
  const count = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 300_000 }), fc.integer({ min: 0, max: MAX_TOKENS }));
  const threshold = fc.oneof(fc.integer({ min: 0, max: 300_000 }), fc.integer({ min: 0, max: MAX_TOKENS }));
  const rule = fc
    .record({
      pricePer1kTokens: price,
      outputPricePer1kTokens: fc.option(price),
      cacheReadPricePer1kTokens: fc.option(price),
      cacheWritePricePer1kTokens: fc.option(price),
      reasoningPricePer1kTokens: fc.option(price),
      tier: fc.option(fc.record({ threshold, input: price, output: price })),
      providerCostPer1kTokens: fc.option(price),
      providerOutputCostPer1kTokens: fc.option(price),
      providerCacheReadCostPer1kTokens: fc.option(price),
      providerCacheWriteCostPer1kTokens: fc.option(price),
      providerReasoningCostPer1kTokens: fc.option(price),
    })
    .map(({ tier, ...r }): RulePriceColumns => {
      const costs = r.providerCostPer1kTokens === null;
      return {
        ...r,
        longContextThreshold: tier?.threshold ?? null,
        longContextPricePer1kTokens: tier?.input ?? null,
        longContextOutputPricePer1kTokens: tier?.output ?? null,
        // The database refuses a per-kind cost without the input's.
        ...(costs
          ? {
              providerOutputCostPer1kTokens: null,
              providerCacheReadCostPer1kTokens: null,
              providerCacheWriteCostPer1kTokens: null,
              providerReasoningCostPer1kTokens: null,
            }
          : {}),
      };
    });
  const priced = fc.record({
    tokens: fc.record({ input: count, output: count, cacheRead: count, cacheWrite: count, reasoning: count }),
    rule,
    defaultPrice: price,
    /** No rule: the default price applies (the rule's columns are NULL). */
    ruleless: fc.boolean(),
  });

  /** The counts scaled down to fit MAX_TOKENS together, as the routes require. */
  function fit(tokens: TokenKinds): TokenKinds {
    const total = TOKEN_KINDS.reduce((sum, kind) => sum + tokens[kind], 0);
    if (total <= MAX_TOKENS) return tokens;
    const scaled = {} as TokenKinds;
    for (const kind of TOKEN_KINDS) scaled[kind] = Math.floor(tokens[kind] / 5);
    return scaled;
  }

  it('credits and provider cost match pricing-math.ts over every kind, tier and price', async () => {
    const cases = fc.sample(priced, 1000).map((c) => ({ ...c, tokens: fit(c.tokens) }));
    const kinds = { input: 'r.i', output: 'r.o', cacheRead: 'r.cr', cacheWrite: 'r.cw', reasoning: 'r.re' };
    const columns = COLUMNS.map(([, column]) => column).join(', ');
    const { rows } = await db.query(
      `SELECT (${creditsSql('r', kinds, 'r.d')})::text AS credits, (${providerCostSql('r', kinds)})::text AS cost
         FROM unnest(${COLUMNS.map((_, i) => `$${i + 1}::numeric(16,10)[]`).join(', ')}, $13::int[],
                     $14::int[], $15::int[], $16::int[], $17::int[], $18::int[], $19::numeric(16,10)[])
              WITH ORDINALITY AS r(${columns}, long_context_threshold, i, o, cr, cw, re, d, n)
        ORDER BY r.n`,
      [
        ...COLUMNS.map(([field]) => cases.map((c) => (c.ruleless ? null : c.rule[field]))),
        cases.map((c) => (c.ruleless ? null : c.rule.longContextThreshold)),
        ...TOKEN_KINDS.map((kind) => cases.map((c) => c.tokens[kind])),
        cases.map((c) => c.defaultPrice),
      ],
    );
    const expected = cases.map((c) => {
      const costs = c.ruleless ? null : providerCosts(c.rule);
      return {
        credits: calculateCredits(c.tokens, c.ruleless ? flatPrices(c.defaultPrice) : rulePrices(c.rule)).toString(),
        cost: costs === null ? null : providerCost(c.tokens, costs),
      };
    });
    // The SQL's cost carries every place of its 10-place prices; the answer's keeps at least 7.
    const answered = rows.map((r: { credits: string; cost: string | null }) => ({
      ...r,
      cost: r.cost === null ? null : trimPlaces(r.cost, 7),
    }));
    expect(answered).toEqual(expected);
    // The sample exercised the tier on both sides of its threshold.
    const prompt = (t: TokenKinds) => t.input + t.cacheRead + t.cacheWrite;
    const tiered = cases.filter((c) => !c.ruleless && c.rule.longContextThreshold !== null);
    expect(tiered.some((c) => prompt(c.tokens) > c.rule.longContextThreshold!)).toBe(true);
    expect(tiered.some((c) => prompt(c.tokens) <= c.rule.longContextThreshold!)).toBe(true);
  });
});
