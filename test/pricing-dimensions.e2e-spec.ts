import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const admin = bearer(tokenFor('admin', 'dims-admin'));

/**
 * Pricing dimensions (docs/pricing.md "Service tiers", "Units"): each tier and unit priced exactly at
 * the rounding edge, refusals that write nothing on every metering route, `auto` held at the worst
 * case, provider usage's tier and web searches, account discounts on units, simulations.
 *
 * The rule: input 1, output 2 per 1,000 tokens; flex 50 %, priority 200 %; web_search_call 0.3333,
 * image.1024x1024.hd 2.5 credits a unit.
 */
describe('pricing dimensions', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const model = uniqueId('openai.dims');
  const post = (path: string, body: object, auth: Record<string, string> = admin) =>
    t.http.post(path).set(auth).send(body);
  const records = async (userId: string) =>
    (
      await t.db.query(
        `SELECT credits, service_tier, units FROM usage_records WHERE user_id = $1 ORDER BY "timestamp", id`,
        [userId],
      )
    ).rows as { credits: number; service_tier: string | null; units: Record<string, number> | null }[];
  const record = (user: FixtureUser, body: object) =>
    post('/api/usage/record', { userId: user.id, service: 'chat', operation: 'c', modelId: model, ...body });
  const quote = async (body: object) => {
    const res = await post('/api/credits/calculate', { modelId: model, ...body });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.credits as number;
  };

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'dims' });
    const rule = await post('/api/pricing', {
      modelId: model,
      pricePer1kTokens: '1',
      outputPricePer1kTokens: 2,
      serviceTiers: { priority: { pricePercent: 200 }, flex: { pricePercent: '50' } },
      unitPrices: { web_search_call: '0.3333', 'image.1024x1024.hd': 2.5 },
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    expect(rule.body.serviceTiers).toEqual({ flex: { pricePercent: '50.00' }, priority: { pricePercent: '200.00' } });
    expect(rule.body.unitPrices).toEqual({ 'image.1024x1024.hd': '2.5000', web_search_call: '0.3333' });
  });
  afterAll(async () => {
    await expectInvariants(t, users);
    await t.close();
  });

  it('a rule refuses bad tiers and unit prices; history and a re-imported sheet keep them', async () => {
    const bad = [
      { serviceTiers: { Flex: { pricePercent: 50 } } },
      { serviceTiers: { flex: { pricePercent: '1000.01' } } },
      { serviceTiers: { flex: { pricePercent: '12.345' } } },
      { serviceTiers: { standard: { pricePercent: 80 } } },
      { serviceTiers: { flex: { pricePercent: 50, extra: 1 } } },
      { unitPrices: { web_search_call: '0.00000000001' } },
      { unitPrices: { 'Web Search': 1 } },
      { unitPrices: { web_search_call: -1 } },
    ];
    for (const fields of bad) {
      const res = await post('/api/pricing', { modelId: uniqueId('bad'), pricePer1kTokens: '1', ...fields });
      expect(res.status, JSON.stringify(fields)).toBe(400);
    }
    const history = await t.http.get(`/api/pricing/${model}/history`).set(admin);
    expect(history.status).toBe(200);
    expect(history.body.items[0]).toMatchObject({ unitPrices: { web_search_call: '0.3333' } });

    const other = uniqueId('openai.sheet');
    const sheet = {
      rules: [
        {
          modelId: other,
          pricePer1kTokens: '1',
          serviceTiers: { flex: { pricePercent: 50 } },
          unitPrices: { web_search_call: 10 },
        },
      ],
    };
    const first = await post('/api/pricing/import', sheet);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body.created).toBe(1);
    expect((await post('/api/pricing/import', sheet)).body).toMatchObject({ created: 0, unchanged: 1 });
    const changed = await post('/api/pricing/import', {
      rules: [{ ...sheet.rules[0], unitPrices: { web_search_call: 11 } }],
    });
    expect(changed.body).toMatchObject({ created: 1, unchanged: 0 });
  });

  it('prices each tier and unit exactly, rounding once at the edge', async () => {
    // flex: 4,000 input × 1 / 1000 × 0.5 = 2 exactly; one token more is 2.0005 → 3.
    expect(await quote({ inputTokens: 4000, serviceTier: 'flex' })).toBe(2);
    expect(await quote({ inputTokens: 4001, serviceTier: 'flex' })).toBe(3);
    // priority: (1,000 × 1 + 1,000 × 2) / 1000 × 2 = 6; one input token more is 6.002 → 7.
    expect(await quote({ inputTokens: 1000, outputTokens: 1000, serviceTier: 'priority' })).toBe(6);
    expect(await quote({ inputTokens: 1001, outputTokens: 1000, serviceTier: 'priority' })).toBe(7);
    // default and standard are the base prices: 3.
    expect(await quote({ inputTokens: 1000, outputTokens: 1000, serviceTier: 'standard' })).toBe(3);
    expect(await quote({ inputTokens: 1000, outputTokens: 1000, serviceTier: 'default' })).toBe(3);
    // Units: 3 × 0.3333 = 0.9999 → 1; with one input token 1.0009 → 2; 3 searches at flex 0.49995 → 1.
    expect(await quote({ units: { web_search_call: 3 } })).toBe(1);
    expect(await quote({ inputTokens: 1, units: { web_search_call: 3 } })).toBe(2);
    expect(await quote({ units: { web_search_call: 3 }, serviceTier: 'flex' })).toBe(1);
    // 4 images at flex: 4 × 2.5 × 0.5 = 5 exactly; 1,000 tokens and 3 searches at priority: (1 + 0.9999) × 2 = 3.9998 → 4.
    expect(await quote({ units: { 'image.1024x1024.hd': 4 }, serviceTier: 'flex' })).toBe(5);
    expect(await quote({ inputTokens: 1000, units: { web_search_call: 3 }, serviceTier: 'priority' })).toBe(4);

    const user = await f.newUser({ credits: 100 });
    expect((await record(user, { inputTokens: 4000, serviceTier: 'flex' })).body).toMatchObject({
      credits: 2,
      serviceTier: 'flex',
      units: null,
    });
    expect((await record(user, { inputTokens: 4001, serviceTier: 'flex' })).body.credits).toBe(3);
    const units = await record(user, { inputTokens: 1, units: { web_search_call: 3 } });
    expect(units.status, JSON.stringify(units.body)).toBe(201);
    expect(units.body).toMatchObject({ credits: 2, serviceTier: null, units: { web_search_call: 3 } });
    expect((await record(user, { units: { web_search_call: 3 } })).body.credits).toBe(1);
    expect(await f.available(user.id)).toBe(100 - 2 - 3 - 2 - 1);
    expect((await records(user.id)).map((r) => [r.credits, r.service_tier, r.units])).toEqual([
      [2, 'flex', null],
      [3, 'flex', null],
      [2, null, { web_search_call: 3 }],
      [1, null, { web_search_call: 3 }],
    ]);
  });

  it('an unknown tier or an unpriced unit is refused on every metering route, nothing written', async () => {
    const user = await f.newUser({ credits: 100 });
    const refusals = [
      [{ tokens: 10, serviceTier: 'scale' }, 'UNKNOWN_SERVICE_TIER', 'scale'],
      [{ tokens: 10, units: { web_fetch_call: 1 } }, 'UNPRICED_UNIT', 'web_fetch_call'],
    ] as const;
    for (const [body, code, name] of refusals) {
      const rec = await record(user, body);
      expect(rec.status).toBe(400);
      expect(rec.body.code).toBe(code);
      expect(rec.body.message).toContain(name);
      const calc = await post('/api/credits/calculate', { modelId: model, ...body });
      expect([calc.status, calc.body.code]).toEqual([400, code]);
      const init = await post(
        '/api/streaming-sessions/initialize',
        { modelId: model, estimatedTokens: 10, ...body, tokens: undefined },
        user.auth,
      );
      expect([init.status, init.body.code]).toEqual([400, code]);
    }
    const batch = await post('/api/usage/records/batch', {
      events: [
        { eventId: uniqueId('e'), userId: user.id, service: 'chat', operation: 'c', modelId: model, tokens: 1000 },
        { ...event(user), serviceTier: 'scale' },
        { ...event(user), units: { web_fetch_call: 1 } },
        { ...event(user), serviceTier: 'flex', units: { web_search_call: 3 } },
      ],
    });
    expect(batch.status).toBe(200);
    expect(batch.body.results.map((r: { status: string }) => r.status)).toEqual([
      'created',
      'invalid',
      'invalid',
      'created',
    ]);
    expect(batch.body.results[1].error).toMatch(/^UNKNOWN_SERVICE_TIER: .*scale/);
    expect(batch.body.results[2].error).toMatch(/^UNPRICED_UNIT: .*web_fetch_call/);
    expect(batch.body.results[3].credits).toBe(1);
    expect((await records(user.id)).length).toBe(2);
    expect(await f.available(user.id)).toBe(100 - 1 - 1);

    // finalize and abort: refused, the session stays active with its hold, nothing recorded.
    const sessionId = uniqueId('chat');
    const init = await post(
      '/api/streaming-sessions/initialize',
      { sessionId, modelId: model, estimatedTokens: 1000 },
      user.auth,
    );
    expect(init.status, JSON.stringify(init.body)).toBe(201);
    const held = await f.available(user.id);
    for (const [body, code] of refusals) {
      for (const route of ['finalize', 'abort']) {
        const res = await post(
          `/api/streaming-sessions/${route}`,
          { sessionId, ...body, tokens: undefined, inputTokens: 10 },
          user.auth,
        );
        expect([route, res.status, res.body.code]).toEqual([route, 400, code]);
      }
    }
    const row = (await t.db.query(`SELECT status FROM streaming_sessions WHERE session_id = $1`, [sessionId])).rows[0];
    expect(row.status).toBe('active');
    expect(await f.available(user.id)).toBe(held);
    expect((await records(user.id)).length).toBe(2);
    const done = await post('/api/streaming-sessions/finalize', { sessionId, inputTokens: 1000 }, user.auth);
    expect(done.status).toBe(200);
  });

  it('auto holds at the most expensive tier; settling at flex gives the rest back', async () => {
    const user = await f.newUser({ credits: 100 });
    const sessionId = uniqueId('chat');
    // 10,000 input tokens: 10 at the base prices, 20 at priority (the worst), held × 6/5 = 24.
    const init = await post(
      '/api/streaming-sessions/initialize',
      { sessionId, modelId: model, inputTokens: 10000, outputTokens: 0, serviceTier: 'auto' },
      user.auth,
    );
    expect(init.status, JSON.stringify(init.body)).toBe(201);
    expect(init.body).toMatchObject({ estimatedCredits: 20, allocatedCredits: 24, serviceTier: 'auto' });
    expect(await f.available(user.id)).toBe(76);
    const done = await post(
      '/api/streaming-sessions/finalize',
      { sessionId, inputTokens: 10001, outputTokens: 0, serviceTier: 'flex', units: { web_search_call: 1 } },
      user.auth,
    );
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    // (10.001 + 0.3333) × 0.5 = 5.16715 → 6; 18 of the 24 held go back.
    expect(done.body).toMatchObject({ actualCredits: 6, refund: 18 });
    expect(await f.available(user.id)).toBe(94);
    expect(await records(user.id)).toEqual([{ credits: 6, service_tier: 'flex', units: { web_search_call: 1 } }]);
    // The same finalize again answers the first; another tier is another request (409).
    const again = await post(
      '/api/streaming-sessions/finalize',
      { sessionId, inputTokens: 10001, outputTokens: 0, serviceTier: 'flex', units: { web_search_call: 1 } },
      user.auth,
    );
    expect(again.status).toBe(200);
    const other = await post(
      '/api/streaming-sessions/finalize',
      { sessionId, inputTokens: 10001, outputTokens: 0, serviceTier: 'priority', units: { web_search_call: 1 } },
      user.auth,
    );
    expect(other.status).toBe(409);
    // auto at settlement (an abort) is the base prices: 10 of the 24 held, 14 back.
    const aborted = uniqueId('chat');
    await post(
      '/api/streaming-sessions/initialize',
      { sessionId: aborted, modelId: model, inputTokens: 10000, serviceTier: 'auto' },
      user.auth,
    ).expect(201);
    const abort = await post(
      '/api/streaming-sessions/abort',
      { sessionId: aborted, inputTokens: 10000, serviceTier: 'auto' },
      user.auth,
    );
    expect(abort.status, JSON.stringify(abort.body)).toBe(200);
    expect(abort.body).toMatchObject({ partialCredits: 10, refund: 14 });
  });

  it('provider usage: its tier field, anthropic’s own service_tier and web searches', async () => {
    const user = await f.newUser({ credits: 100 });
    const anthropic = (usage: object, serviceTier?: string) => ({
      providerUsage: { format: 'anthropic', usage, ...(serviceTier ? { serviceTier } : {}) },
    });
    const usage = { input_tokens: 1000, output_tokens: 0, server_tool_use: { web_search_requests: 3 } };
    // (1 + 0.9999) = 1.9999 → 2 at the base prices; × 2 at priority = 3.9998 → 4; × 0.5 at flex → 1.
    const base = await record(user, anthropic(usage));
    expect(base.status, JSON.stringify(base.body)).toBe(201);
    expect(base.body).toMatchObject({ credits: 2, serviceTier: null, units: { web_search_call: 3 } });
    expect((await record(user, anthropic({ ...usage, service_tier: 'standard' }))).body.credits).toBe(2);
    const priority = await record(user, anthropic({ ...usage, service_tier: 'priority' }));
    expect(priority.body).toMatchObject({ credits: 4, serviceTier: 'priority' });
    // The field wins over the usage's own; an openai usage names its tier only through the field.
    const flex = await record(user, anthropic({ ...usage, service_tier: 'priority' }, 'flex'));
    expect(flex.body).toMatchObject({ credits: 1, serviceTier: 'flex' });
    const openai = await record(user, {
      providerUsage: {
        format: 'openai.chat',
        usage: { prompt_tokens: 4000, completion_tokens: 0 },
        serviceTier: 'flex',
      },
    });
    expect(openai.body).toMatchObject({ credits: 2, serviceTier: 'flex' });
    const unknown = await record(user, anthropic({ ...usage, service_tier: 'batch' }));
    expect([unknown.status, unknown.body.code]).toEqual([400, 'UNKNOWN_SERVICE_TIER']);
    const clash = await record(user, { serviceTier: 'priority', ...anthropic(usage, 'flex') });
    expect(clash.status).toBe(400);
  });

  it('an account discount scales unit prices; an account price’s unit prices replace the rule’s', async () => {
    const discounted = await f.newUser({ credits: 100 });
    const own = await f.newUser({ credits: 100 });
    const from = new Date(Date.now() - 1000).toISOString();
    const discount = await post('/api/pricing/accounts', {
      userId: discounted.id,
      modelId: model,
      discountPercent: 50,
      effectiveFrom: from,
    });
    expect(discount.status, JSON.stringify(discount.body)).toBe(201);
    const replaced = await post('/api/pricing/accounts', {
      userId: own.id,
      modelId: model,
      unitPrices: { web_search_call: 1 },
      effectiveFrom: from,
    });
    expect(replaced.status, JSON.stringify(replaced.body)).toBe(201);
    expect(replaced.body.unitPrices).toEqual({ web_search_call: '1.0000' });
    expect(
      (
        await post('/api/pricing/accounts', {
          userId: own.id,
          modelId: `${model}x`,
          discountPercent: 5,
          unitPrices: { a: 1 },
          effectiveFrom: from,
        })
      ).status,
    ).toBe(400);
    // 6 searches: 1.9998 × 0.5 = 0.9999 → 1; 7: 2.3331 × 0.5 = 1.16655 → 2.
    expect((await record(discounted, { units: { web_search_call: 6 } })).body.credits).toBe(1);
    expect((await record(discounted, { units: { web_search_call: 7 } })).body.credits).toBe(2);
    // The account's own unit price: 3 × 1 = 3; its images keep the rule's 2.5 (at flex 1.25 → 2).
    expect((await record(own, { units: { web_search_call: 3 } })).body.credits).toBe(3);
    expect((await record(own, { units: { 'image.1024x1024.hd': 1 }, serviceTier: 'flex' })).body.credits).toBe(2);
    expect(await quote({ userId: discounted.id, units: { web_search_call: 7 } })).toBe(2);
  });

  it('simulations price each record’s tier and units at the simulated rule', async () => {
    const user = await f.newUser({ credits: 100 });
    const from = new Date(Date.now() - 1000).toISOString();
    expect((await record(user, { inputTokens: 4000, serviceTier: 'flex' })).body.credits).toBe(2);
    expect((await record(user, { units: { web_search_call: 3 } })).body.credits).toBe(1);
    const to = new Date(Date.now() + 1000).toISOString();
    const simulate = (rule: object) =>
      post('/api/pricing/simulations', {
        from,
        to,
        userId: user.id,
        groupBy: 'model',
        rules: [{ modelId: model, ...rule }],
      });
    const same = await simulate({
      pricePer1kTokens: '1',
      outputPricePer1kTokens: '2',
      serviceTiers: { flex: { pricePercent: 50 }, priority: { pricePercent: 200 } },
      unitPrices: { web_search_call: '0.3333', 'image.1024x1024.hd': '2.5' },
    });
    expect(same.status, JSON.stringify(same.body)).toBe(200);
    expect(same.body).toMatchObject({ records: 2, actualCredits: 3, simulatedCredits: 3, difference: 0 });
    // flex at 100 % and a search at 1: 4 + 3 = 7.
    const dearer = await simulate({
      pricePer1kTokens: '1',
      serviceTiers: { flex: { pricePercent: 100 } },
      unitPrices: { web_search_call: '1' },
    });
    expect(dearer.body).toMatchObject({ actualCredits: 3, simulatedCredits: 7, difference: 4 });
  });

  it('stats add credits by tier and counts by unit; the CSV keeps both', async () => {
    const user = await f.newUser({ credits: 100 });
    await record(user, { inputTokens: 4000, serviceTier: 'flex' }).expect(201); // 2
    await record(user, { inputTokens: 1000, serviceTier: 'priority', units: { web_search_call: 3 } }).expect(201); // 4
    await record(user, { inputTokens: 3000, units: { web_search_call: 2, 'image.1024x1024.hd': 1 } }).expect(201); // 6.1666 → 7
    await record(user, { tokens: 2000 }).expect(201); // 2
    const stats = await t.http.get(`/api/usage/stats/${user.id}`).set(admin);
    expect(stats.status, JSON.stringify(stats.body)).toBe(200);
    expect(stats.body.totalCredits).toBe(15);
    expect(stats.body.byServiceTier).toEqual({ default: 9, flex: 2, priority: 4 });
    expect(stats.body.unitsByName).toEqual({ web_search_call: 5, 'image.1024x1024.hd': 1 });
    const system = await t.http.get('/api/usage/system-stats').set(admin);
    expect(system.status).toBe(200);
    expect(system.body.unitsByName.web_search_call).toBeGreaterThanOrEqual(5);
    expect(system.body.byServiceTier.flex).toBeGreaterThanOrEqual(2);
    const csv = await t.http.get(`/api/usage/records/export?userId=${user.id}`).set(admin);
    expect(csv.status).toBe(200);
    const lines = (csv.text as string).split('\r\n').filter(Boolean);
    expect(lines[0].endsWith(',orgId,serviceTier,units')).toBe(true);
    expect(lines.slice(1).map((l) => l.slice(l.lastIndexOf(',,') + 2))).toEqual([
      '',
      '"{""web_search_call"":2,""image.1024x1024.hd"":1}"',
      '"priority","{""web_search_call"":3}"',
      '"flex",',
    ]);
  });

  function event(user: FixtureUser) {
    return { eventId: uniqueId('e'), userId: user.id, service: 'chat', operation: 'c', modelId: model, tokens: 10 };
  }
});
