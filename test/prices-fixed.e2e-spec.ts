import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

// Prices could start in the past (moving billed records outside the rule that priced
// them); unknown model ids (case, trailing space, zero-width variants of a priced model) were billed
// at the default in production; a 500-rule price sheet was refused with 413. Prices are fixed once
// used (docs/pricing.md).

const MINUTE = 60_000;
const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';

describe('price rules never start in the past', () => {
  let t: TestApp;
  const admin = bearer(tokenFor('admin', 'prices-admin'));

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  const rules = async (modelId: string) =>
    (await t.db.query(`SELECT count(*)::int AS n FROM pricing_rules WHERE model_id = $1`, [modelId])).rows[0].n;

  it('effectiveFrom two minutes ago → 400, nothing written; within the minute of leeway → 201', async () => {
    const modelId = `past-${randomUUID().slice(0, 8)}`;
    const past = new Date(Date.now() - 2 * MINUTE).toISOString();
    const refused = await t.http
      .post('/api/pricing')
      .set(admin)
      .send({ modelId, pricePer1kTokens: '1', effectiveFrom: past })
      .expect(400);
    expect(JSON.stringify(refused.body.message)).toMatch(/effectiveFrom must not be in the past/);
    expect(await rules(modelId)).toBe(0);
    const skewed = new Date(Date.now() - 30_000).toISOString();
    await t.http
      .post('/api/pricing')
      .set(admin)
      .send({ modelId, pricePer1kTokens: '1', effectiveFrom: skewed })
      .expect(201);
    expect(await rules(modelId)).toBe(1);
  });

  it('a price sheet starting in the past → 400, nothing written', async () => {
    const modelId = `past-sheet-${randomUUID().slice(0, 8)}`;
    await t.http
      .post('/api/pricing/import')
      .set(admin)
      .send({
        effectiveFrom: new Date(Date.now() - 10 * MINUTE).toISOString(),
        rules: [{ modelId, pricePer1kTokens: '1' }],
      })
      .expect(400);
    expect(await rules(modelId)).toBe(0);
  });

  it('a 500-rule price sheet with every price is accepted (not 413), all in one transaction', async () => {
    const prefix = `sheet500-${randomUUID().slice(0, 8)}`;
    const sheet = {
      effectiveFrom: new Date(Date.now() + 60 * MINUTE).toISOString(),
      rules: Array.from({ length: 500 }, (_, i) => ({
        modelId: `${prefix}-provider.family-model-variant-${String(i).padStart(3, '0')}`,
        pricePer1kTokens: '3.0000',
        outputPricePer1kTokens: '15.0000',
        cacheReadPricePer1kTokens: '0.3000',
        cacheWritePricePer1kTokens: '3.7500',
        reasoningPricePer1kTokens: '15.0000',
        longContextThreshold: 200000,
        longContextPricePer1kTokens: '6.0000',
        longContextOutputPricePer1kTokens: '22.5000',
        providerCost: {
          input: '2.5000',
          output: '12.0000',
          cacheRead: '0.2500',
          cacheWrite: '3.0000',
          reasoning: '12.0000',
        },
      })),
    };
    expect(Buffer.byteLength(JSON.stringify(sheet))).toBeGreaterThan(100 * 1024);
    const res = await t.http.post('/api/pricing/import').set(admin).send(sheet);
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(201);
    expect(res.body).toMatchObject({ created: 500, unchanged: 0 });
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM pricing_rules WHERE model_id LIKE $1`, [
      `${prefix}-%`,
    ]);
    expect(rows[0].n).toBe(500);
    // Without credentials the large body is never read: 401, not 413.
    await t.http.post('/api/pricing/import').send(sheet).expect(401);
  });

  it('model ids with whitespace, control or zero-width characters are refused with 400 everywhere', async () => {
    const user = bearer(token());
    for (const modelId of [`${HAIKU} `, ` ${HAIKU}`, `anthropic.claude\u200b-3-haiku`, `${HAIKU}\ufeff`, 'a\tb']) {
      await t.http.post('/api/credits/calculate').set(user).send({ modelId, tokens: 1000 }).expect(400);
      await t.http.post('/api/pricing').set(admin).send({ modelId, pricePer1kTokens: '1' }).expect(400);
      await t.http
        .post('/api/usage/record')
        .set(user)
        .send({ service: 'chat', operation: 'c', modelId, tokens: 1000 })
        .expect(400);
      await t.http
        .post('/api/streaming-sessions/initialize')
        .set(user)
        .send({ modelId, estimatedTokens: 10 })
        .expect(400);
    }
  });
});

describe('NODE_ENV=production: PRICING_STRICT defaults to true', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];

  beforeAll(async () => {
    // Production refuses WEBHOOK_ALLOW_PRIVATE_URLS (the test harness sets it for other specs).
    t = await startTestApp({ NODE_ENV: 'production', WEBHOOK_ALLOW_PRIVATE_URLS: 'false', METERING_TRUST: 'users' });
    f = new Fixtures(t, { users, prefix: 'strict' });
  });
  afterAll(() => t?.close());

  const record = (auth: Record<string, string>, modelId: string) =>
    t.http.post('/api/usage/record').set(auth).send({ service: 'chat', operation: 'c', modelId, tokens: 1000 });

  it('a record for a model without a rule, or a case variant of a priced one → 422, nothing charged', async () => {
    const u = await f.newUser({ credits: 100 });
    for (const modelId of [
      `unknown-${randomUUID().slice(0, 8)}`,
      HAIKU.toUpperCase(),
      'Anthropic.claude-3-haiku-20240307-v1:0',
    ]) {
      const res = await record(u.auth, modelId);
      expect(res.status, modelId).toBe(422);
      expect(res.body).toMatchObject({ code: 'PRICING_UNKNOWN_MODEL' });
    }
    expect(await f.available(u.id)).toBe(100);
    const priced = await record(u.auth, HAIKU);
    expect(priced.status).toBe(201);
    expect(priced.body.credits).toBe(1);
    await expectInvariants(t, users);
  });
});
