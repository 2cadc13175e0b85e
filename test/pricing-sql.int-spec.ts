import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { MAX_TOKENS } from '../src/common/validation/amounts.js';
import { creditsSql, providerCostSql } from '../src/pricing/pricing.sql.js';
import { calculateCredits, formatPrice, providerCost } from '../src/pricing/pricing-math.js';

/**
 * The SQL pricing (src/pricing/pricing.sql.ts, used where a settlement prices inside its statement)
 * gives exactly what pricing-math.ts gives, for any token counts and prices in range.
 */
describe('pricing in SQL', () => {
  let db: pg.Pool;
  beforeAll(() => {
    db = new pg.Pool({ connectionString: inject('databaseUrl'), max: 1 });
  });
  afterAll(() => db?.end());

  /** A price as NUMERIC(10,4) holds it: 0 … 999999.9999. */
  const price = fc.bigInt({ min: 0n, max: 9_999_999_999n }).map(formatPrice);
  const tokens = fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: MAX_TOKENS }));
  const priced = fc.record({
    input: tokens,
    output: tokens,
    price,
    outputPrice: fc.option(price),
    cost: fc.option(price),
    /** No rule: the default price applies (the rule's columns are NULL). */
    ruleless: fc.boolean(),
  });

  it('credits and provider cost match pricing-math.ts', async () => {
    const cases = fc.sample(priced, 500).map((c) => ({ ...c, output: Math.min(c.output, MAX_TOKENS - c.input) }));
    const { rows } = await db.query(
      `SELECT (${creditsSql('r', 'r.i', 'r.o', 'r.d')})::text AS credits,
              (${providerCostSql('r', '(r.i::bigint + r.o)')})::text AS cost
         FROM unnest($1::numeric(10,4)[], $2::numeric(10,4)[], $3::numeric(10,4)[], $4::int[], $5::int[], $6::numeric(10,4)[])
              WITH ORDINALITY AS r(price_per_1k_tokens, output_price_per_1k_tokens, provider_cost_per_1k_tokens, i, o, d, n)
        ORDER BY r.n`,
      [
        cases.map((c) => (c.ruleless ? null : c.price)),
        cases.map((c) => (c.ruleless ? null : c.outputPrice)),
        cases.map((c) => (c.ruleless ? null : c.cost)),
        cases.map((c) => c.input),
        cases.map((c) => c.output),
        cases.map((c) => c.price),
      ],
    );
    const expected = cases.map((c) => ({
      credits: calculateCredits(
        { inputTokens: c.input, outputTokens: c.output },
        c.price,
        c.ruleless ? c.price : (c.outputPrice ?? c.price),
      ).toString(),
      cost: c.ruleless || c.cost === null ? null : providerCost(c.input + c.output, c.cost),
    }));
    expect(rows).toEqual(expected);
  });
});
