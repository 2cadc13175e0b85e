import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  calculateCredits,
  flatPrices,
  formatPrice,
  kindsOf,
  normalisePrice,
  parsePrice,
  providerCost,
  type RulePrices,
} from './pricing-math.js';

/** Input and output prices, every other kind at its default. */
const io = (price: string, output = price): RulePrices => ({ ...flatPrices(price), output, reasoning: output });

/** Reference: the same formula on rationals built from the price's digits, no shared helpers. */
function reference(input: number, output: number, priceTenThousandths: number, outputTenThousandths: number): bigint {
  const num = BigInt(input) * BigInt(priceTenThousandths) + BigInt(output) * BigInt(outputTenThousandths);
  const den = 10_000_000n;
  const q = num / den;
  return num % den === 0n ? q : q + 1n;
}

const asPrice = (tenThousandths: number) =>
  `${Math.floor(tenThousandths / 10_000)}.${String(tenThousandths % 10_000).padStart(4, '0')}`;

describe('pricing maths', () => {
  it.each([
    ['0.07', 100_000, 7n],
    ['0.0700', 100_000, 7n],
    ['3', 1000, 3n],
    ['3', 1, 1n],
    ['0.25', 4000, 1n],
    ['0.25', 4001, 2n],
    ['0.8', 0, 0n],
    ['0', 123_456, 0n],
    ['0.0001', 1, 1n],
    ['0.3', 10_000, 3n],
    ['999999.9999', 1000, 1_000_000n],
  ])('price %s × %i tokens = %i credits', (price, tokens, credits) => {
    expect(calculateCredits(kindsOf(tokens), io(price))).toBe(credits);
  });

  it('floating point would overcharge where this does not', () => {
    expect(Math.ceil((100_000 / 1000) * 0.07)).toBe(8);
    expect(calculateCredits(kindsOf(100_000), io('0.07'))).toBe(7n);
  });

  it('prices input and output tokens separately, rounding once', () => {
    // 1500 × 0.5 + 500 × 1.5 = 1500 → 1.5 → 2 credits (rounding each side would give 1 + 1 = 2 too,
    // so take a case where it differs: 100 × 3 + 100 × 3 = 600 → 1, not 1 + 1).
    expect(calculateCredits(kindsOf(100, 100), io('3', '3'))).toBe(1n);
    expect(calculateCredits(kindsOf(1500, 500), io('0.5', '1.5'))).toBe(2n);
    expect(calculateCredits(kindsOf(1000, 1000), io('1', '15'))).toBe(16n);
  });

  it('matches a BigInt reference for random token counts and 4-decimal prices', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2_000_000_000 }),
        fc.integer({ min: 0, max: 2_000_000_000 }),
        fc.integer({ min: 0, max: 9_999_999_999 }),
        fc.integer({ min: 0, max: 9_999_999_999 }),
        (input, output, p, op) => {
          expect(calculateCredits(kindsOf(input, output), io(asPrice(p), asPrice(op)))).toBe(
            reference(input, output, p, op),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('single token counts are priced at the input price (output price defaults to it)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 99_999_999 }), (tokens, p) => {
        expect(calculateCredits(kindsOf(tokens), io(asPrice(p)))).toBe(reference(tokens, 0, p, 0));
      }),
    );
  });

  it('parses and formats prices with at least 4 places and at most 10', () => {
    expect(formatPrice(parsePrice('0.07'))).toBe('0.0700');
    expect(normalisePrice(3)).toBe('3.0000');
    expect(normalisePrice('0.2500')).toBe('0.2500');
    expect(normalisePrice(0.1234)).toBe('0.1234');
    expect(normalisePrice('0.0000375')).toBe('0.0000375');
    expect(normalisePrice('0.0000000001')).toBe('0.0000000001');
    expect(normalisePrice('1.2300000000')).toBe('1.2300');
    for (const bad of ['0.00000000001', '-1', 'abc', '1e-5', '', '1234567']) expect(() => parsePrice(bad)).toThrow();
  });

  it('provider cost is exact', () => {
    const cost = (price: string) => ({ ...flatPrices(price) });
    expect(providerCost(kindsOf(1000, 500), cost('0.0030'))).toBe('0.0045000');
    expect(providerCost(kindsOf(1), cost('0.0001'))).toBe('0.0000001');
    expect(providerCost(kindsOf(0), cost('5'))).toBe('0.0000000');
    // Each kind at its own cost: 1,000 × 3 + 20,000 × 0.3 + 500 × 15 = 16,500 → 16.5.
    const costs = { input: '3', output: '15', cacheRead: '0.3', cacheWrite: '3.75', reasoning: '15' };
    const tokens = { input: 1000, output: 500, cacheRead: 20_000, cacheWrite: 0, reasoning: 0 };
    expect(providerCost(tokens, costs)).toBe('16.5000000');
  });

  it('prices each kind at its own price, rounding once (a cached Anthropic call)', () => {
    const prices: RulePrices = {
      input: '3',
      output: '15',
      cacheRead: '0.3',
      cacheWrite: '3.75',
      reasoning: '15',
      longContext: null,
    };
    // ceil((1000 × 3 + 20,000 × 0.3 + 500 × 15) / 1000) = ceil(16.5) = 17
    expect(calculateCredits({ input: 1000, output: 500, cacheRead: 20_000, cacheWrite: 0, reasoning: 0 }, prices)).toBe(
      17n,
    );
    // 2,000 cache-write tokens: + 7.5 → ceil(24) = 24
    expect(
      calculateCredits({ input: 1000, output: 500, cacheRead: 20_000, cacheWrite: 2000, reasoning: 0 }, prices),
    ).toBe(24n);
    // Reasoning billed apart at its price: 1,000 × 15 more.
    expect(calculateCredits({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 1000 }, prices)).toBe(15n);
  });

  it('prices input and output at the long-context tier when the prompt exceeds its threshold', () => {
    const prices: RulePrices = {
      input: '3',
      output: '15',
      cacheRead: '0.3',
      cacheWrite: '3.75',
      reasoning: '15',
      longContext: { threshold: 200_000, input: '6', output: '22.5' },
    };
    const at = (input: number, cacheRead: number, output: number) =>
      calculateCredits({ input, output, cacheRead, cacheWrite: 0, reasoning: 0 }, prices);
    // 250,000 prompt tokens: 250 × 6 + 1 × 22.5 = 1522.5 → 1523
    expect(at(250_000, 0, 1000)).toBe(1523n);
    // Exactly at the threshold: base prices, 200 × 3 + 15 = 615
    expect(at(200_000, 0, 1000)).toBe(615n);
    // Cache reads count toward the prompt but keep their price: 1 × 6 + 200 × 0.3 + 22.5 = 88.5 → 89
    expect(at(1000, 200_000, 1000)).toBe(89n);
  });
});
