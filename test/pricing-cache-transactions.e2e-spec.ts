import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PricingCache } from '../src/pricing/pricing-cache.js';
import { startTestApp, type TestApp } from './support/app.js';
import { Fixtures } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

/**
 * Idempotency-Key requests run in a transaction, each holding a pool connection: when the prices are
 * not cached (a lull past PRICING_CACHE_TTL_MS, a price change), a request that waited for the shared
 * load, which needs a connection of its own, waited for good once every connection was held so. With
 * a pool of two connections and eight such requests at once, each is answered at once
 * (docs/pricing.md "Cache").
 */
describe('prices read inside a transaction', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];

  beforeAll(async () => {
    // A transaction left waiting is ended at 5 s (its request answers 503), not the spec's timeout.
    t = await startTestApp({ DB_POOL_SIZE: '2', DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '5000' });
    f = new Fixtures(t, { users, prefix: 'pct' });
  });
  afterAll(async () => {
    await expectInvariants(t, users);
    await t.close();
  });

  it('records with an Idempotency-Key, all at once, on a pool they fill, with nothing cached', async () => {
    const us = await Promise.all(Array.from({ length: 8 }, () => f.newUser({ credits: [1000] })));
    for (let round = 0; round < 3; round++) {
      // Forgotten, as a price change's notification or a lull past the TTL leaves it.
      t.app.get(PricingCache).invalidate();
      const answers = await Promise.all(
        us.map((u) =>
          t.http
            .post('/api/usage/record')
            .set(u.auth)
            .set('Idempotency-Key', randomUUID())
            .send({ service: 'chat', operation: 'op', modelId: 'openai.gpt-4o-mini', tokens: 1000 }),
        ),
      );
      expect(answers.map((r) => r.status)).toEqual(us.map(() => 201));
    }
    for (const u of us) expect(await f.available(u.id)).toBeLessThan(1000);
  });
});
