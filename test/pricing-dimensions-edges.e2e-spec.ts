import { readFileSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const admin = bearer(tokenFor('admin', 'dims-edges-admin'));

/**
 * The edges of pricing dimensions (docs/pricing.md "Service tiers", "Units") that
 * test/pricing-dimensions.e2e-spec.ts leaves: the bounds of names, percents, prices and counts, each
 * unit priced at its own rounding edge, a refused batch event's id left free, refused initializes
 * opening no session, and the price sheet's items and history carrying both dimensions.
 *
 * The rule: input 1 per 1,000 tokens; flex 50 %, priority 1000 %, free 0 %; a unit of each name length
 * the rule allows, priced 0 to 2.5.
 */
describe('pricing dimensions: edges', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const model = uniqueId('openai.edges');
  const longTier = 'x'.repeat(32);
  const longUnit = `image.${'a'.repeat(58)}`; // 64
  const post = (path: string, body: object, auth: Record<string, string> = admin) =>
    t.http.post(path).set(auth).send(body);
  const quote = (body: object) => post('/api/credits/calculate', { modelId: model, ...body });
  const credits = async (body: object) => {
    const res = await quote(body);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.credits as number;
  };

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'dimedge' });
    const rule = await post('/api/pricing', {
      modelId: model,
      pricePer1kTokens: '1',
      serviceTiers: { flex: { pricePercent: '50' }, priority: { pricePercent: '1000' }, free: { pricePercent: 0 } },
      unitPrices: {
        'image.1024x1024.hd': '2.5',
        'web_search:v2-call': '0.0001',
        [longUnit]: '0',
        web_search_call: '1',
      },
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
  });
  afterAll(async () => {
    await expectInvariants(t, users);
    await t.close();
  });

  it('a rule takes names and values up to their bounds and refuses one past them', async () => {
    const rule = (fields: object) =>
      post('/api/pricing', { modelId: uniqueId('edge'), pricePer1kTokens: '1', ...fields });
    const good = [
      { serviceTiers: { [longTier]: { pricePercent: '1000.00' } } },
      { serviceTiers: { 'a-b_9': { pricePercent: '0.01' } } },
      { unitPrices: { [longUnit]: '999999.9999' } },
      { unitPrices: { 'a.b:c-d_e': 0 } },
    ];
    for (const fields of good) expect((await rule(fields)).status, JSON.stringify(fields)).toBe(201);
    const bad = [
      { serviceTiers: { [`${longTier}x`]: { pricePercent: 50 } } }, // 33 characters
      { serviceTiers: { '': { pricePercent: 50 } } },
      { serviceTiers: { 'flex.1': { pricePercent: 50 } } }, // `.` is a unit's, not a tier's
      { serviceTiers: { auto: { pricePercent: 50 } } },
      { serviceTiers: { default: { pricePercent: 50 } } },
      { serviceTiers: { flex: { pricePercent: '-1' } } },
      { serviceTiers: { flex: { pricePercent: 1001 } } },
      { serviceTiers: { flex: {} } },
      { serviceTiers: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`t${i}`, { pricePercent: 1 }])) },
      { unitPrices: { [`${longUnit}x`]: 1 } }, // 65 characters
      { unitPrices: { 'web search': 1 } },
      { unitPrices: { 'web/search': 1 } },
      { unitPrices: { web_search_call: '1.23456789012' } },
      { unitPrices: { web_search_call: 'ten' } },
      { unitPrices: [1] },
    ];
    for (const fields of bad) expect((await rule(fields)).status, JSON.stringify(fields)).toBe(400);
  });

  it('a write takes at most 20 unit names, counts integers ≥ 0, a tier of a tier’s charset', async () => {
    const bad = [
      { units: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`u${i}`, 1])) },
      { units: { 'image.1024x1024.hd': -1 } },
      { units: { 'image.1024x1024.hd': 1.5 } },
      { units: { 'image.1024x1024.hd': '2' } },
      { units: { 'Image.HD': 1 } },
      { units: [1] },
      { serviceTier: 'Flex' },
      { serviceTier: `${longTier}x` },
      { serviceTier: '' },
    ];
    const user = await f.newUser({ credits: 100 });
    for (const fields of bad) {
      expect((await quote({ tokens: 10, ...fields })).status, JSON.stringify(fields)).toBe(400);
      const rec = await post('/api/usage/record', {
        userId: user.id,
        service: 'chat',
        operation: 'c',
        modelId: model,
        tokens: 10,
        ...fields,
      });
      expect(rec.status, JSON.stringify(fields)).toBe(400);
    }
    // 20 names (the bound) pass the check; the first the rule does not price is named.
    const twenty = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`u${i}`, 1]));
    const res = await quote({ tokens: 10, units: twenty });
    expect([res.status, res.body.code]).toEqual([400, 'UNPRICED_UNIT']);
    // A count of 0 is a unit named and not used: priced 0, and kept.
    expect(await credits({ tokens: 1000, units: { 'image.1024x1024.hd': 0 } })).toBe(1);
    expect(await f.available(user.id)).toBe(100);
  });

  it('prices every tier and unit at its own rounding edge', async () => {
    // image 2.5: 2 → 5 exactly, 3 → 7.5 → 8; at flex 4 → 5, with one token more 5.0005 → 6.
    expect(await credits({ units: { 'image.1024x1024.hd': 2 } })).toBe(5);
    expect(await credits({ units: { 'image.1024x1024.hd': 3 } })).toBe(8);
    expect(await credits({ units: { 'image.1024x1024.hd': 4 }, serviceTier: 'flex' })).toBe(5);
    expect(await credits({ inputTokens: 1, units: { 'image.1024x1024.hd': 4 }, serviceTier: 'flex' })).toBe(6);
    // 0.0001 a unit: 10,000 → 1 exactly, 10,001 → 2; at priority (1000 %) 1,000 → 1, 1,001 → 2.
    expect(await credits({ units: { 'web_search:v2-call': 10000 } })).toBe(1);
    expect(await credits({ units: { 'web_search:v2-call': 10001 } })).toBe(2);
    expect(await credits({ units: { 'web_search:v2-call': 1000 }, serviceTier: 'priority' })).toBe(1);
    expect(await credits({ units: { 'web_search:v2-call': 1001 }, serviceTier: 'priority' })).toBe(2);
    // priority on tokens: 100 tokens × 10 = 1 exactly, 101 → 1.01 → 2.
    expect(await credits({ inputTokens: 100, serviceTier: 'priority' })).toBe(1);
    expect(await credits({ inputTokens: 101, serviceTier: 'priority' })).toBe(2);
    // a 0 % tier and a 0-priced unit cost nothing; the 64-character unit is priced like any other.
    expect(await credits({ inputTokens: 5000, units: { 'image.1024x1024.hd': 9 }, serviceTier: 'free' })).toBe(0);
    expect(await credits({ units: { [longUnit]: 1000 } })).toBe(0);
    expect(await credits({ units: { web_search_call: 3 }, inputTokens: 1 })).toBe(4);
    // tokens and units are rounded once together: 0.5 + 0.5 = 1, not 1 + 1.
    expect(await credits({ inputTokens: 500, units: { 'web_search:v2-call': 5000 } })).toBe(1);
  });

  it('a refused batch event keeps its id free; a refused initialize opens no session', async () => {
    const user = await f.newUser({ credits: 100 });
    const eventId = uniqueId('e');
    const event = { eventId, userId: user.id, service: 'chat', operation: 'c', modelId: model, inputTokens: 1000 };
    const first = await post('/api/usage/records/batch', {
      events: [
        { ...event, serviceTier: 'scale' },
        { ...event, eventId: uniqueId('e'), units: { 'image.1024x1024.hd': -1 } },
        { ...event, eventId: uniqueId('e') },
      ],
    });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.results.map((r: { status: string }) => r.status)).toEqual(['invalid', 'invalid', 'created']);
    expect(first.body.results[0].error).toMatch(/^UNKNOWN_SERVICE_TIER: /);
    // The same id with a tier the rule prices is recorded: the refusal claimed nothing.
    const again = await post('/api/usage/records/batch', { events: [{ ...event, serviceTier: 'flex' }] });
    expect(again.body.results[0]).toMatchObject({ status: 'created', credits: 1 });
    expect(await f.available(user.id)).toBe(100 - 1 - 1);

    for (const fields of [{ serviceTier: 'scale' }, { units: { web_fetch_call: 1 } }]) {
      const sessionId = uniqueId('chat');
      const init = await post(
        '/api/streaming-sessions/initialize',
        { sessionId, modelId: model, estimatedTokens: 1000, ...fields },
        user.auth,
      );
      expect(init.status).toBe(400);
      const rows = await t.db.query(`SELECT 1 FROM streaming_sessions WHERE session_id = $1`, [sessionId]);
      expect(rows.rowCount).toBe(0);
    }
    expect(await f.available(user.id)).toBe(98);
  });

  it('auto holds at the worst tier across lots; a flex settlement gives the rest back to its lots', async () => {
    // Lots of 10 (expiring first) and 100. 9,000 input tokens: 9 at the base prices, 90 at priority
    // (1000 %, the worst), held × 6/5 = 108: the first lot's 10 and 98 of the second.
    const user = await f.newUser({
      credits: [
        { credits: 10, expiryDays: 1 },
        { credits: 100, expiryDays: 30 },
      ],
    });
    const [soon, later] = user.allocationIds;
    const remaining = async () =>
      (
        await t.db.query(`SELECT id, remaining_credits::int AS n FROM credit_allocations WHERE id = ANY($1::uuid[])`, [
          user.allocationIds,
        ])
      ).rows.reduce((into: Record<string, number>, r: { id: string; n: number }) => ({ ...into, [r.id]: r.n }), {});
    const sessionId = uniqueId('chat');
    const init = await post(
      '/api/streaming-sessions/initialize',
      { sessionId, modelId: model, inputTokens: 9000, serviceTier: 'auto' },
      user.auth,
    );
    expect(init.status, JSON.stringify(init.body)).toBe(201);
    expect(init.body).toMatchObject({ estimatedCredits: 90, allocatedCredits: 108 });
    expect(await remaining()).toEqual({ [soon]: 0, [later]: 2 });
    // Served at flex with an image: (9 + 2.5) × 0.5 = 5.75 → 6; 102 go back, latest expiry first.
    const done = await post(
      '/api/streaming-sessions/finalize',
      { sessionId, inputTokens: 9000, serviceTier: 'flex', units: { 'image.1024x1024.hd': 1 } },
      user.auth,
    );
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body).toMatchObject({ actualCredits: 6, refund: 102 });
    expect(await remaining()).toEqual({ [soon]: 4, [later]: 100 });
  });

  it('the price sheet of docs/pricing.md prices as its examples say', async () => {
    // The sheet and the calculations pasted from the doc, under model ids of this run's own.
    const doc = readFileSync(new URL('../docs/pricing.md', import.meta.url), 'utf8');
    const block = doc.slice(doc.indexOf('## Units'), doc.indexOf('## Cache'));
    const steps = [...block.matchAll(/-d '([^']*)'\n# → ([^\n]*)/g)].map(([, body, answer]) => ({ body, answer }));
    expect(steps.length).toBe(4);
    const suffix = uniqueId('-doc');
    const own = (text: string) =>
      JSON.parse(text.replaceAll(/"modelId":"([^"]+)"/g, `"modelId":"$1${suffix}"`)) as object;
    const sheet = await post('/api/pricing/import', own(steps[0].body));
    expect(sheet.status, JSON.stringify(sheet.body)).toBe(201);
    expect(steps[0].answer).toContain('"created":2');
    expect(sheet.body.created).toBe(2);
    for (const { body, answer } of steps.slice(1)) {
      const res = await post('/api/credits/calculate', own(body));
      const code = /"code":"(\w+)"/.exec(answer)?.[1];
      if (code) expect([res.status, res.body.code]).toEqual([400, code]);
      else expect([res.status, res.body.credits]).toEqual([200, Number(/"credits":(\d+)/.exec(answer)![1])]);
    }
  });

  it('the price sheet’s items and the history carry tiers and unit prices', async () => {
    const modelId = uniqueId('openai.edges-sheet');
    const rule = {
      modelId,
      pricePer1kTokens: '1.25',
      serviceTiers: { flex: { pricePercent: 50 }, priority: { pricePercent: '200' } },
      unitPrices: { web_search_call: 10 },
    };
    const imported = await post('/api/pricing/import', { rules: [rule] });
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    const tiers = { flex: { pricePercent: '50.00' }, priority: { pricePercent: '200.00' } };
    expect(imported.body.items[0]).toMatchObject({ serviceTiers: tiers, unitPrices: { web_search_call: '10.0000' } });
    // Another tier percent is another rule; the history keeps both, newest first.
    const changed = await post('/api/pricing/import', {
      rules: [{ ...rule, serviceTiers: { flex: { pricePercent: 40 } } }],
    });
    expect(changed.body).toMatchObject({ created: 1 });
    const history = await t.http.get(`/api/pricing/${modelId}/history`).set(admin).expect(200);
    expect(history.body.items.map((r: { serviceTiers: unknown }) => r.serviceTiers)).toEqual([
      { flex: { pricePercent: '40.00' } },
      tiers,
    ]);
    expect(history.body.items[0].unitPrices).toEqual({ web_search_call: '10.0000' });
    // A sheet with a bad tier is refused whole, naming the rule.
    const bad = await post('/api/pricing/import', {
      rules: [
        { ...rule, modelId: uniqueId('openai.ok') },
        { ...rule, serviceTiers: { Flex: { pricePercent: 50 } } },
      ],
    });
    expect(bad.status).toBe(400);
    expect((await t.http.get(`/api/pricing/${modelId}/history`).set(admin)).body.items).toHaveLength(2);
  });
});
