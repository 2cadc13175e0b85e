import { describe, expect, it } from 'vitest';

import { checkServiceTiers, checkUnitPrices, unitsProblem, worstTier } from './dimensions.js';
import { calculateCredits, flatPrices, kindsOf, type RulePrices } from './pricing-math.js';

const prices: RulePrices = {
  ...flatPrices('1.0000'),
  output: '2.0000',
  serviceTiers: { flex: { pricePercent: '50.00' }, priority: { pricePercent: '175.50' } },
  unitPrices: { web_search_call: '0.3333' },
};

describe('pricing dimensions (one function, one rounding)', () => {
  it('prices a tier on tokens and units alike, exactly at the edge', () => {
    expect(calculateCredits(kindsOf(4000), prices, undefined, { serviceTier: 'flex', units: null })).toBe(2n);
    expect(calculateCredits(kindsOf(4001), prices, undefined, { serviceTier: 'flex', units: null })).toBe(3n);
    // (2 + 0.9999) × 1.755 = 5.2648245 → 6; 3 searches alone 0.9999 → 1.
    const dims = { serviceTier: 'priority', units: { web_search_call: 3 } };
    expect(calculateCredits(kindsOf(2000), prices, undefined, dims)).toBe(6n);
    expect(calculateCredits(kindsOf(0), prices, undefined, { serviceTier: null, units: { web_search_call: 3 } })).toBe(
      1n,
    );
    // A 50 % discount (factor 5000 of 10000) on 6 searches: 1.9998 × 0.5 = 0.9999 → 1.
    expect(calculateCredits(kindsOf(0), prices, 5000n, { serviceTier: null, units: { web_search_call: 6 } })).toBe(1n);
  });

  it('refuses a tier or a unit the rule does not price; the base tiers are always priced', () => {
    expect(() => calculateCredits(kindsOf(1), prices, undefined, { serviceTier: 'scale', units: null })).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_SERVICE_TIER' }),
    );
    expect(() => calculateCredits(kindsOf(1), prices, undefined, { serviceTier: null, units: { x: 1 } })).toThrow(
      expect.objectContaining({ code: 'UNPRICED_UNIT' }),
    );
    for (const tier of ['default', 'standard', 'auto'])
      expect(calculateCredits(kindsOf(1000), prices, undefined, { serviceTier: tier, units: null })).toBe(1n);
  });

  it('auto holds at the most expensive tier, the base prices when none costs more', () => {
    expect(worstTier(prices.serviceTiers!)).toBe('priority');
    expect(worstTier({ flex: { pricePercent: '50.00' } })).toBeNull();
  });

  it('checks the shapes of tiers, unit prices and units', () => {
    expect(checkServiceTiers({ flex: { pricePercent: 50 } })).toEqual({ tiers: { flex: { pricePercent: '50.00' } } });
    expect(checkServiceTiers({ flex: { pricePercent: '1000.01' } })).toHaveProperty('problem');
    expect(checkServiceTiers({ default: { pricePercent: 80 } })).toHaveProperty('problem');
    expect(checkUnitPrices({ 'image.1024x1024.hd': 2.5 })).toEqual({ prices: { 'image.1024x1024.hd': '2.5000' } });
    expect(checkUnitPrices({ web_search_call: '0.00000000001' })).toHaveProperty('problem');
    expect(unitsProblem({ web_search_call: 1.5 })).not.toBeNull();
    expect(unitsProblem(Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`u${i}`, 1])))).not.toBeNull();
    expect(unitsProblem({ web_search_call: 2 })).toBeNull();
  });
});
