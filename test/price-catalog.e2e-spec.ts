import type { AddressInfo } from 'node:net';

import { findProvider } from '@pydantic/genai-prices';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { ProviderStandIn } from './support/provider-stand-in.js';
import { until } from './support/until.js';

const VERSION = (await import('../src/pricing/catalog/catalog-data.js')).installedCatalogVersion();
const MARKUP = 10; // PRICE_MARKUP_PERCENT
const CREDITS_PER_USD = 1000;

/** The installed catalogue's USD per million tokens of a model, in millionths of a dollar (exact integers). */
function usd(provider: string, model: string): { input: bigint; output: bigint } {
  const entry = findProvider({ providerId: provider })!.models.find((m) => m.id === model)!;
  const prices = (Array.isArray(entry.prices) ? entry.prices[0].prices : entry.prices) as Record<
    string,
    number | { base: number }
  >;
  // Below a tier's start (a long context), the base price.
  const micro = (p: number | { base: number }) => BigInt(Math.round((typeof p === 'number' ? p : p.base) * 1e6));
  return { input: micro(prices.input_mtok), output: micro(prices.output_mtok) };
}

/** credits = ceil((in × $in + out × $out) / 1e6 × CREDITS_PER_USD × (100 + markup) / 100), one rounding. */
function expected(provider: string, model: string, input: number, output: number): number {
  const p = usd(provider, model);
  const microUsdTimesMillion = BigInt(input) * p.input + BigInt(output) * p.output; // × 1e-6 $ / 1e6 tokens
  const numerator = microUsdTimesMillion * BigInt(CREDITS_PER_USD) * BigInt(100 + MARKUP);
  const denominator = 10n ** 12n * 100n;
  return Number((numerator + denominator - 1n) / denominator);
}

/**
 * The price catalogue (docs/pricing.md "The price catalogue"): on a fresh database of its own with no
 * rule, records, calculations, streaming holds and gateway requests of current models priced at the
 * catalogue's price × CREDITS_PER_USD × markup, rounded once, naming the catalogue version; an
 * operator rule wins from its effectiveFrom; the catalogue's list and import routes.
 */
describe('price catalogue', () => {
  let own: OwnDatabase;
  let t: TestApp;
  let f: Fixtures;
  let standIn: ProviderStandIn;
  let origin: string;
  const admin = bearer(tokenFor('admin', 'catalog-admin'));
  const supervisor = bearer(tokenFor('supervisor', 'catalog-supervisor'));

  beforeAll(async () => {
    own = await ownDatabase('price_catalog');
    standIn = new ProviderStandIn();
    const url = await standIn.start();
    t = await startTestApp({
      DATABASE_URL: own.url,
      JOBS_ENABLED: 'false',
      PRICE_CATALOG: 'true',
      PRICE_MARKUP_PERCENT: String(MARKUP),
      PRICING_STRICT: 'true',
      GATEWAY_UPSTREAMS: JSON.stringify([
        { name: 'openai', format: 'openai', baseUrl: url, apiKeyEnv: 'CAT_OPENAI_KEY', models: ['gpt-*'] },
        { name: 'anthropic', format: 'anthropic', baseUrl: url, apiKeyEnv: 'CAT_ANTHROPIC_KEY', models: ['claude-*'] },
      ]),
      CAT_OPENAI_KEY: 'sk-proj-standin',
      CAT_ANTHROPIC_KEY: 'sk-ant-api03-standin',
    });
    origin = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    f = new Fixtures(t, { prefix: 'cat' });
  });
  afterAll(async () => {
    await t?.close();
    await standIn?.close();
    await own?.drop();
  });

  it('stores the installed catalogue once, in force since before any catalogue date', async () => {
    const { rows } = await t.db.query(
      `SELECT version, credits_per_usd, markup_percent::text AS markup, effective_from FROM price_catalog_sets`,
    );
    expect(rows).toEqual([
      { version: VERSION, credits_per_usd: 1000, markup: '10.00', effective_from: new Date('1970-01-01T00:00:00Z') },
    ]);
  });

  it('prices a record, a calculation and a streaming hold of a current model without a rule from the catalogue', async () => {
    const user = await f.newUser({ credits: 100_000 });
    const model = 'claude-sonnet-4-5-20250929';
    const credits = expected('anthropic', 'claude-sonnet-4-5', 12_345, 6_789);
    const record = await t.http
      .post('/api/usage/record')
      .set(user.auth)
      .send({ service: 'chat', operation: 'completion', modelId: model, inputTokens: 12_345, outputTokens: 6_789 });
    expect(record.status, JSON.stringify(record.body)).toBe(201);
    expect(record.body.credits).toBe(credits);
    expect(record.body.priceSource).toEqual({ catalog: VERSION, model: 'claude-sonnet-4-5' });
    const listed = await t.http.get('/api/usage/records').set(user.auth).expect(200);
    expect(listed.body.items[0].priceSource).toEqual({ catalog: VERSION, model: 'claude-sonnet-4-5' });

    const calculated = await t.http
      .post('/api/credits/calculate')
      .set(user.auth)
      .send({ modelId: model, inputTokens: 12_345, outputTokens: 6_789 });
    expect(calculated.status, JSON.stringify(calculated.body)).toBe(200);
    expect(calculated.body).toMatchObject({ credits, source: 'catalog', priceSource: { catalog: VERSION } });

    const gpt = expected('openai', 'gpt-4o', 1_000, 1_000);
    const opened = await t.http
      .post('/api/streaming-sessions/initialize')
      .set(user.auth)
      .send({ modelId: 'gpt-4o-2024-08-06', inputTokens: 1_000, outputTokens: 1_000 });
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    expect(opened.body.estimatedCredits).toBe(gpt);
    const settled = await t.http
      .post('/api/streaming-sessions/finalize')
      .set(user.auth)
      .send({ sessionId: opened.body.sessionId, inputTokens: 2_000, outputTokens: 500 });
    expect(settled.status, JSON.stringify(settled.body)).toBe(200);
    const { rows } = await t.db.query(`SELECT credits FROM usage_records WHERE metadata->>'sessionId' = $1`, [
      opened.body.sessionId,
    ]);
    expect(rows).toEqual([{ credits: expected('openai', 'gpt-4o', 2_000, 500) }]);
  });

  it('prices a gateway request from the catalogue, and says what MODEL_NOT_FOUND misses', async () => {
    const user = await f.newUser({ credits: 100_000 });
    const key = await f.apiKey(user, { permissions: ['gateway'] });
    standIn.kinds = { input: 1_200, output: 300, cacheRead: 0, cacheWrite: 0, reasoning: 0 };
    const res = await fetch(`${origin}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key.key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const requestId = res.headers.get('x-request-id')!;
    const read = () =>
      t.db.query(`SELECT credits FROM usage_records WHERE metadata->'gateway'->>'requestId' = $1`, [requestId]);
    await until('the gateway request is settled', async () => (await read()).rows.length > 0);
    expect((await read()).rows).toEqual([{ credits: expected('anthropic', 'claude-haiku-4-5', 1_200, 300) }]);

    const models = await fetch(`${origin}/v1/models`, { headers: { authorization: `Bearer ${key.key}` } });
    const ids = ((await models.json()) as { data: { id: string }[] }).data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['claude-haiku-4-5', 'gpt-4o']));
    expect(ids.some((id) => id.startsWith('gemini'))).toBe(false); // no upstream routes it

    const unpriced = await fetch(`${origin}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key.key, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-made-up', max_tokens: 8, messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(unpriced.status).toBe(404);
    expect(JSON.stringify(await unpriced.json())).toMatch(/no price/);
    const unrouted = await fetch(`${origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gemini-2.5-pro', messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(unrouted.status).toBe(404);
    const text = JSON.stringify(await unrouted.json());
    expect(text).toMatch(/no openai upstream routes it/);
    expect(text).not.toMatch(/no price/);
  });

  it('lists the catalogue (admin, supervisor) and imports entries as ordinary rules (admin) that win from effectiveFrom', async () => {
    const user = await f.newUser();
    await t.http.get('/api/pricing/catalog').set(user.auth).expect(403);
    await t.http
      .post('/api/pricing/catalog/import')
      .set(supervisor)
      .send({ models: ['gpt-4o'] })
      .expect(403);
    const listed = await t.http.get('/api/pricing/catalog?provider=anthropic&q=SONNET-4-5').set(supervisor).expect(200);
    expect(listed.body.version).toBe(VERSION);
    const sonnet = listed.body.items.find((i: { model: string }) => i.model === 'claude-sonnet-4-5');
    expect(sonnet).toMatchObject({
      provider: 'anthropic',
      contextWindow: expect.any(Number),
      version: VERSION,
      overriddenBy: null,
      prices: { input: '3.3000', output: '16.5000', cacheRead: '0.3300', cacheWrite: '4.1250' },
    });
    expect(listed.body.items.every((i: { provider: string }) => i.provider === 'anthropic')).toBe(true);
    await t.http.get('/api/pricing/catalog?provider=NOT%20ONE').set(admin).expect(400);

    const rulesBefore = (await t.db.query(`SELECT count(*)::int AS n FROM pricing_rules`)).rows;
    for (const body of [
      {},
      { models: ['gpt-4o'], provider: 'openai' },
      { models: [] },
      { models: ['no-such-model'] },
    ]) {
      const refused = await t.http.post('/api/pricing/catalog/import').set(admin).send(body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
    }
    expect((await t.db.query(`SELECT count(*)::int AS n FROM pricing_rules`)).rows).toEqual(rulesBefore);

    const imported = await t.http
      .post('/api/pricing/catalog/import')
      .set(admin)
      .send({ models: ['claude-sonnet-4-5'] });
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body).toMatchObject({
      created: 1,
      items: [
        {
          modelId: 'claude-sonnet-4-5',
          pricePer1kTokens: '3.3000',
          outputPricePer1kTokens: '16.5000',
          cacheReadPricePer1kTokens: '0.3300',
          cacheWritePricePer1kTokens: '4.1250',
          reasoningPricePer1kTokens: null,
        },
      ],
    });
    const audit = await t.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'pricing.catalog.import'`);
    expect(audit.rows).toEqual([{ n: 1 }]);
    const after = await t.http.get('/api/pricing/catalog?provider=anthropic&q=sonnet-4-5').set(admin).expect(200);
    expect(after.body.items.find((i: { model: string }) => i.model === 'claude-sonnet-4-5').overriddenBy).toBe(
      imported.body.items[0].id,
    );

    // An operator's own rule for the exact model id wins from its effectiveFrom.
    const payer = await f.newUser({ credits: 10_000 });
    const rule = await t.http
      .post('/api/pricing')
      .set(admin)
      .send({ modelId: 'gpt-4o-mini', pricePer1kTokens: '1', outputPricePer1kTokens: '2' });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    const ruled = await t.http.post('/api/usage/record').set(payer.auth).send({
      service: 'chat',
      operation: 'completion',
      modelId: 'gpt-4o-mini',
      inputTokens: 1_000,
      outputTokens: 1_000,
    });
    expect(ruled.body).toMatchObject({ credits: 3, pricingRuleId: rule.body.id, priceSource: null });
  });
});
