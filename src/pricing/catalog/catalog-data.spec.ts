import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { installedProviders, PRICED_KEYS, UNPRICED_KEYS } from './catalog-data.js';

/**
 * Every price key of the installed catalogue is one the service prices from or one docs/pricing.md
 * "What the catalogue prices, and what it does not" lists as left out: a package version bringing a
 * key of neither fails here, so a new kind of price is never silently free.
 */
describe('the catalogue’s price keys', () => {
  it('are each priced or documented as left out', async () => {
    const seen = new Set<string>();
    let tiersBeyondOne = 0;
    for (const provider of await installedProviders())
      for (const model of provider.models)
        for (const { prices } of Array.isArray(model.prices) ? model.prices : [{ prices: model.prices }])
          for (const [key, value] of Object.entries(prices)) {
            if (value === undefined) continue;
            seen.add(key);
            if (typeof value === 'object' && value.tiers.length > 1) tiersBeyondOne++;
          }
    const known = new Set<string>([...PRICED_KEYS, ...UNPRICED_KEYS]);
    expect([...seen].filter((key) => !known.has(key))).toEqual([]);
    expect(PRICED_KEYS.filter((key) => !seen.has(key))).toEqual([]);
    // One tier per price: the first is the long-context tier, and no second is dropped.
    expect(tiersBeyondOne).toBe(0);
  });

  it('lists each documented key in docs/pricing.md', async () => {
    const doc = readFileSync(new URL('../../../docs/pricing.md', import.meta.url), 'utf8');
    expect([...PRICED_KEYS, ...UNPRICED_KEYS].filter((key) => !doc.includes(`\`${key}\``))).toEqual([]);
  });
});
