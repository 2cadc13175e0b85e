import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { PricingService } from '../src/pricing/pricing.service.js';
import { PricingCache } from '../src/pricing/pricing-cache.js';
import { kindsOf } from '../src/pricing/pricing-math.js';
import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { freezeClock } from './support/clock.js';

const SEEDS: Record<string, string> = {
  'anthropic.claude-3-sonnet-20240229-v1:0': '3.0000',
  'anthropic.claude-3-haiku-20240307-v1:0': '0.2500',
  'anthropic.claude-instant-v1': '0.8000',
  'amazon.titan-text-express-v1': '0.3000',
};
const HOUR = 3_600_000;

describe('pricing', () => {
  let t: TestApp;
  const admin = bearer(token({ sub: 'pricing-admin', role: 'admin' }));
  const supervisor = bearer(token({ sub: 'pricing-supervisor', role: 'supervisor' }));
  const user = bearer(token({ sub: 'pricing-user' }));

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const model = () => uniqueId('model');
  const createRule = (body: Record<string, unknown>) => t.http.post('/api/pricing').set(admin).send(body);
  const calculate = (body: Record<string, unknown>) => t.http.post('/api/credits/calculate').set(user).send(body);

  it('a fresh database carries the four seed prices, created by system', async () => {
    const res = await t.http.get('/api/pricing').set(user).expect(200);
    expect(res.body.nextCursor).toBeNull();
    for (const [modelId, price] of Object.entries(SEEDS)) {
      const rule = res.body.items.find((r: { modelId: string }) => r.modelId === modelId);
      expect(rule).toMatchObject({ modelId, pricePer1kTokens: price, createdBy: 'system', effectiveTo: null });
    }
    const one = await t.http.get('/api/pricing/anthropic.claude-3-sonnet-20240229-v1:0').set(user).expect(200);
    expect(one.body).toMatchObject({
      modelId: 'anthropic.claude-3-sonnet-20240229-v1:0',
      pricePer1kTokens: '3.0000',
      source: 'rule',
      effectiveFrom: '2024-01-01T00:00:00.000Z',
      effectiveTo: null,
    });
  });

  it('an unknown model costs the default price, source "default"', async () => {
    const res = await t.http.get(`/api/pricing/${model()}`).set(user).expect(200);
    expect(res.body).toMatchObject({
      pricePer1kTokens: '1.0000',
      source: 'default',
      effectiveFrom: null,
      effectiveTo: null,
    });
  });

  it('prices exactly: 0.07 × 100,000 tokens is 7 credits, not 8', async () => {
    const m = model();
    const rule = await createRule({ modelId: m, pricePer1kTokens: '0.07' }).expect(201);
    expect(rule.body).toMatchObject({
      modelId: m,
      pricePer1kTokens: '0.0700',
      outputPricePer1kTokens: null,
      createdBy: 'pricing-admin',
    });
    const res = await calculate({ modelId: m, tokens: 100_000 }).expect(200);
    expect(res.body).toMatchObject({ modelId: m, tokens: 100_000, credits: 7, pricePer1kTokens: '0.0700' });
    expect((await calculate({ modelId: m, tokens: 100_001 }).expect(200)).body.credits).toBe(8);
    expect((await calculate({ modelId: m, tokens: 0 }).expect(200)).body.credits).toBe(0);
  });

  it('input and output tokens use their own prices; provider cost is exact', async () => {
    const m = model();
    await createRule({
      modelId: m,
      pricePer1kTokens: 0.5,
      outputPricePer1kTokens: '1.5',
      providerCostPer1kTokens: '0.0030',
    }).expect(201);
    const quote = await t.app.get(PricingService).quote(m, kindsOf(1500, 500));
    expect(quote).toMatchObject({
      credits: 2,
      pricePer1kTokens: '0.5000',
      outputPricePer1kTokens: '1.5000',
      providerCost: '0.0060000',
      source: 'rule',
    });
    const single = await calculate({ modelId: m, tokens: 1000 }).expect(200);
    expect(single.body).toMatchObject({ credits: 1, pricePer1kTokens: '0.5000', outputPricePer1kTokens: '1.5000' });
    const price = await t.http.get(`/api/pricing/${m}`).set(user).expect(200);
    expect(price.body).toMatchObject({
      outputPricePer1kTokens: '1.5000',
      providerCostPer1kTokens: '0.0030',
      pricingRuleId: quote.pricingRuleId,
    });
  });

  it('a new rule closes the open one at its effectiveFrom; history is newest first', async () => {
    // Rules never start in the past: the switch is set up ahead of time.
    const m = model();
    const first = (
      await createRule({
        modelId: m,
        pricePer1kTokens: '2',
        effectiveFrom: new Date(Date.now() + HOUR).toISOString(),
      }).expect(201)
    ).body;
    const switchAt = new Date(Date.now() + 2 * HOUR).toISOString();
    const second = (await createRule({ modelId: m, pricePer1kTokens: '1.25', effectiveFrom: switchAt }).expect(201))
      .body;
    const pricing = t.app.get(PricingService);
    const after = await pricing.quote(m, kindsOf(4000), new Date(Date.now() + 3 * HOUR));
    expect(after).toMatchObject({ credits: 5, pricingRuleId: second.id });
    const history = await t.http.get(`/api/pricing/${m}/history`).set(supervisor).expect(200);
    expect(history.body.items.map((r: { id: string; effectiveTo: string | null }) => [r.id, r.effectiveTo])).toEqual([
      [second.id, null],
      [first.id, switchAt],
    ]);
    // A closed rule still prices instants inside its period.
    const earlier = await pricing.quote(m, kindsOf(4000), new Date(Date.now() + 1.5 * HOUR));
    expect(earlier).toMatchObject({ credits: 8, pricingRuleId: first.id });
    await t.http.get(`/api/pricing/${m}/history`).set(user).expect(403);
  });

  it('a future rule is not used before it starts', async () => {
    const m = model();
    await createRule({ modelId: m, pricePer1kTokens: '1' }).expect(201);
    const startsAt = new Date(Date.now() + HOUR).toISOString();
    await createRule({ modelId: m, pricePer1kTokens: '9', effectiveFrom: startsAt }).expect(201);
    expect((await calculate({ modelId: m, tokens: 1000 }).expect(200)).body.credits).toBe(1);
    const current = await t.http.get(`/api/pricing/${m}`).set(user).expect(200);
    expect(current.body).toMatchObject({ pricePer1kTokens: '1.0000', effectiveTo: startsAt });
    const later = await t.app.get(PricingService).quote(m, kindsOf(1000), new Date(Date.now() + 2 * HOUR));
    expect(later.credits).toBe(9);
    const listed = (await t.http.get('/api/pricing').set(user).expect(200)).body.items.filter(
      (r: { modelId: string }) => r.modelId === m,
    );
    expect(listed).toHaveLength(1);
    expect(listed[0].pricePer1kTokens).toBe('1.0000');
  });

  it('upcoming=true lists the rules that start later, soonest first, even for a model with no price yet', async () => {
    const priced = model();
    const unpriced = model();
    await createRule({ modelId: priced, pricePer1kTokens: '1' }).expect(201);
    const soon = new Date(Date.now() + HOUR).toISOString();
    const later = new Date(Date.now() + 2 * HOUR).toISOString();
    await createRule({ modelId: unpriced, pricePer1kTokens: '4', effectiveFrom: later }).expect(201);
    await createRule({ modelId: priced, pricePer1kTokens: '2', effectiveFrom: soon }).expect(201);
    const mine = (body: { items: Array<{ modelId: string }> }) =>
      body.items.filter((r) => r.modelId === priced || r.modelId === unpriced);
    const upcoming = await t.http.get('/api/pricing?upcoming=true').set(user).expect(200);
    expect(mine(upcoming.body)).toEqual([
      expect.objectContaining({ modelId: priced, pricePer1kTokens: '2.0000', effectiveFrom: soon }),
      expect.objectContaining({ modelId: unpriced, pricePer1kTokens: '4.0000', effectiveFrom: later }),
    ]);
    for (const rule of upcoming.body.items) expect(Date.parse(rule.effectiveFrom)).toBeGreaterThan(Date.now());
    // The rules in effect now: the priced model's current rule only; the unpriced model is absent.
    const now = await t.http.get('/api/pricing?upcoming=false').set(user).expect(200);
    expect(mine(now.body)).toEqual([expect.objectContaining({ modelId: priced, pricePer1kTokens: '1.0000' })]);
    await t.http.get('/api/pricing?upcoming=soon').set(user).expect(400);
  });

  it('overlapping rules are refused with 409 and change nothing', async () => {
    const m = model();
    const from = new Date(Date.now() + 2 * HOUR).toISOString();
    await createRule({ modelId: m, pricePer1kTokens: '1', effectiveFrom: from }).expect(201);
    // Starts before the open rule and runs into it.
    const clash = await createRule({
      modelId: m,
      pricePer1kTokens: '2',
      effectiveFrom: new Date(Date.now() + HOUR).toISOString(),
      effectiveTo: new Date(Date.now() + 2.5 * HOUR).toISOString(),
    }).expect(409);
    expect(clash.body).toMatchObject({ statusCode: 409, error: 'Conflict' });
    // Same start as the open rule.
    await createRule({ modelId: m, pricePer1kTokens: '3', effectiveFrom: from }).expect(409);
    const history = await t.http.get(`/api/pricing/${m}/history`).set(supervisor).expect(200);
    expect(history.body.items).toHaveLength(1);
    expect(history.body.items[0]).toMatchObject({ pricePer1kTokens: '1.0000', effectiveTo: null });
    // A closed period before the open rule that does not touch it is fine.
    await createRule({
      modelId: m,
      pricePer1kTokens: '4',
      effectiveFrom: new Date(Date.now() + 0.5 * HOUR).toISOString(),
      effectiveTo: from,
    }).expect(201);
  });

  it('the database refuses overlapping rules even when written directly', async () => {
    const m = model();
    await t.db.query(
      `INSERT INTO pricing_rules (model_id, price_per_1k_tokens, effective_from, created_by) VALUES ($1, 1, now() - interval '1 day', 'x')`,
      [m],
    );
    await expect(
      t.db.query(
        `INSERT INTO pricing_rules (model_id, price_per_1k_tokens, effective_from, created_by) VALUES ($1, 2, now(), 'x')`,
        [m],
      ),
    ).rejects.toMatchObject({ code: '23P01' });
  });

  it.each([
    // A price holds at most 10 places.
    ['11 decimals', { pricePer1kTokens: '0.00000000001' }],
    ['11 decimals as a number', { pricePer1kTokens: 0.12345678901 }],
    ['negative', { pricePer1kTokens: -1 }],
    ['not a number', { pricePer1kTokens: 'abc' }],
    ['too large', { pricePer1kTokens: '1000000' }],
    ['missing price', {}],
    ['bad output price', { pricePer1kTokens: '1', outputPricePer1kTokens: '1.00000000001' }],
    ['bad date', { pricePer1kTokens: '1', effectiveFrom: 'yesterday' }],
    [
      'effectiveTo before effectiveFrom',
      { pricePer1kTokens: '1', effectiveFrom: '2030-01-02T00:00:00Z', effectiveTo: '2030-01-01T00:00:00Z' },
    ],
    ['an unknown field', { pricePer1kTokens: '1', createdBy: 'mallory' }],
  ])('POST /api/pricing with %s → 400 and nothing written', async (_name, body) => {
    const m = model();
    const res = await createRule({ modelId: m, ...body }).expect(400);
    expect(res.body.statusCode).toBe(400);
    const rows = await t.db.query(`SELECT count(*)::int AS n FROM pricing_rules WHERE model_id = $1`, [m]);
    expect(rows.rows[0].n).toBe(0);
  });

  it('only admins create rules', async () => {
    await t.http.post('/api/pricing').set(supervisor).send({ modelId: model(), pricePer1kTokens: '1' }).expect(403);
    await t.http.post('/api/pricing').set(user).send({ modelId: model(), pricePer1kTokens: '1' }).expect(403);
    await t.http.get('/api/pricing').expect(401);
  });

  it('another instance hears of a new rule at once (NOTIFY), its TTL far off', async () => {
    const other = await startTestApp({ PRICING_CACHE_TTL_MS: '3600000' });
    try {
      // Stopped a minute ahead: prices are read at the app's clock, and the rule created below starts
      // at the wall clock's now, which the stopped clock must have passed.
      freezeClock(other).advance(60_000);
      other.app.get(PricingService).invalidate(); // the next read loads at the frozen time
      const m = model();
      expect((await other.http.get(`/api/pricing/${m}`).set(user).expect(200)).body.source).toBe('default');
      await createRule({ modelId: m, pricePer1kTokens: '0.5' }).expect(201);
      // The clock stands still and the TTL is an hour: only the notification can bring the rule.
      await vi.waitFor(async () => {
        const after = await other.http.get(`/api/pricing/${m}`).set(user).expect(200);
        expect(after.body).toMatchObject({ source: 'rule', pricePer1kTokens: '0.5000' });
      }, 10_000);
    } finally {
      await other.close();
    }
  });

  it('another instance sees a new rule once its cache TTL has passed', async () => {
    const other = await startTestApp({ PRICING_CACHE_TTL_MS: '300' });
    try {
      // A minute ahead, so the rule created below (from the wall clock's now) is in force at it.
      const clock = freezeClock(other);
      clock.advance(60_000);
      // An instance that missed the notification (its LISTEN connection lost): the TTL bounds staleness.
      await other.app.get(PricingCache).beforeApplicationShutdown();
      other.app.get(PricingService).invalidate(); // the next read loads at the frozen time
      const m = model();
      const before = await other.http.get(`/api/pricing/${m}`).set(user).expect(200);
      expect(before.body.source).toBe('default');
      await createRule({ modelId: m, pricePer1kTokens: '0.5' }).expect(201);
      // This instance refreshed at once; the other within its TTL.
      expect((await t.http.get(`/api/pricing/${m}`).set(user).expect(200)).body.pricePer1kTokens).toBe('0.5000');
      clock.advance(300);
      const after = await other.http.get(`/api/pricing/${m}`).set(user).expect(200);
      expect(after.body).toMatchObject({ source: 'rule', pricePer1kTokens: '0.5000' });
    } finally {
      await other.close();
    }
  });

  it('refreshes its cache ahead in the second half of the TTL, without making a request wait', async () => {
    const other = await startTestApp({ PRICING_CACHE_TTL_MS: '2000' });
    try {
      const clock = freezeClock(other);
      // An instance that missed the notification (its LISTEN connection lost): the TTL bounds staleness.
      await other.app.get(PricingCache).beforeApplicationShutdown();
      other.app.get(PricingService).invalidate(); // the next read loads at the frozen time
      const m = model();
      await other.http.get(`/api/pricing/${m}`).set(user).expect(200); // loads
      clock.advance(1100);
      await createRule({ modelId: m, pricePer1kTokens: '0.5' }).expect(201); // on the other instance
      // Still inside the TTL: answered from the cache at once, and a background reload starts.
      expect((await other.http.get(`/api/pricing/${m}`).set(user).expect(200)).body.source).toBe('default');
      // The clock stands still, well before the TTL of the first load ran out: only the reload started
      // ahead can bring the new rule (waits for that load to land, not for time to pass).
      await vi.waitFor(async () => {
        const after = await other.http.get(`/api/pricing/${m}`).set(user).expect(200);
        expect(after.body).toMatchObject({ source: 'rule', pricePer1kTokens: '0.5000' });
      }, 10_000);
    } finally {
      await other.close();
    }
  });

  it('strict mode refuses unknown models with 422 and still prices known ones', async () => {
    const strict = await startTestApp({ PRICING_STRICT: 'true' });
    try {
      const res = await strict.http.get(`/api/pricing/${model()}`).set(user).expect(422);
      expect(res.body).toMatchObject({ statusCode: 422, code: 'PRICING_UNKNOWN_MODEL' });
      await strict.http.post('/api/credits/calculate').set(user).send({ modelId: model(), tokens: 10 }).expect(422);
      const known = await strict.http
        .post('/api/credits/calculate')
        .set(user)
        .send({ modelId: 'amazon.titan-text-express-v1', tokens: 10_000 })
        .expect(200);
      expect(known.body.credits).toBe(3);
    } finally {
      await strict.close();
    }
  });
});
