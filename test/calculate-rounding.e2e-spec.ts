import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const admin = bearer(tokenFor('admin', 'calc-rounding-admin'));

/**
 * Calculate answers what a record of the same counts is charged (docs/pricing.md "Units", "Volume
 * steps"): token kinds at their prices, a service tier and volume steps multiplied exactly before the
 * rounding, on a rule with steps and without.
 */
describe('calculate and a record round once per request', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const graduated = uniqueId('openai.calcgrad');
  const flat = uniqueId('openai.calcflat');
  const prices = {
    pricePer1kTokens: '2',
    outputPricePer1kTokens: '6',
    cacheReadPricePer1kTokens: '0.5',
    serviceTiers: { flex: { pricePercent: 50 } },
  };
  const counts = { inputTokens: 1000, outputTokens: 1000, cacheReadTokens: 2000, reasoningTokens: 1000 };
  const post = (path: string, body: object) => t.http.post(path).set(admin).send(body);

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'calr' });
    const steps = [
      { upTo: 1_000_000, pricePercent: 100 },
      { upTo: null, pricePercent: 50 },
    ];
    for (const body of [
      { modelId: graduated, ...prices, volume: { mode: 'graduated', period: 'month', steps } },
      { modelId: flat, ...prices },
    ]) {
      const res = await post('/api/pricing', body);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
  });
  afterAll(async () => {
    await expectInvariants(t, users);
    await t.close();
  });

  for (const [name, model] of [
    ['a graduated rule', () => graduated],
    ['a rule without steps', () => flat],
  ] as const)
    it(`${name}: (2 + 6 + 1 + 6) × 50 % = 7.5 → 8, in calculate and in the record`, async () => {
      const u = await f.newUser({ credits: 1000 });
      const calc = await post('/api/credits/calculate', {
        userId: u.id,
        modelId: model(),
        serviceTier: 'flex',
        ...counts,
      });
      expect(calc.status, JSON.stringify(calc.body)).toBe(200);
      expect(calc.body.credits).toBe(8);
      const rec = await post('/api/usage/record', {
        userId: u.id,
        service: 'chat',
        operation: 'c',
        modelId: model(),
        serviceTier: 'flex',
        ...counts,
      });
      expect(rec.status, JSON.stringify(rec.body)).toBe(201);
      expect(rec.body.credits).toBe(8);
      expect(await f.available(u.id)).toBe(1000 - 8);
      // The same request again, on the account's next record: calculate answers what the record is charged.
      const again = await post('/api/credits/calculate', {
        userId: u.id,
        modelId: model(),
        serviceTier: 'flex',
        ...counts,
      });
      const second = await post('/api/usage/record', {
        userId: u.id,
        service: 'chat',
        operation: 'c',
        modelId: model(),
        serviceTier: 'flex',
        ...counts,
      });
      expect(second.status, JSON.stringify(second.body)).toBe(201);
      // One rounding per request: the second record is 7.5 → 8 too, not what the pair's 15 leaves (7).
      expect(again.body.credits).toBe(8);
      expect(second.body.credits).toBe(8);
      expect(await f.available(u.id)).toBe(1000 - 16);
    });
});
