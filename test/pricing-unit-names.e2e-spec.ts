import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

const admin = bearer(tokenFor('admin', 'unit-names-admin'));

/**
 * A unit (or a tier) named `constructor`, `prototype` or `__proto__` fits the names' grammar, but a
 * copy of the body drops it, so it was priced as nothing: every body holding such a key, at any depth,
 * is refused with a 400 that names it, before anything is read or written (docs/errors.md, "Every
 * status"; docs/pricing.md "Units").
 */
describe('pricing units named like a JavaScript object’s own members', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const model = uniqueId('openai.protounits');
  const KEYS = ['constructor', 'prototype', '__proto__'];
  const raw = (path: string, body: string) =>
    t.http.post(path).set(admin).set('Content-Type', 'application/json').send(body);

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'protounit' });
    const rule = await t.http
      .post('/api/pricing')
      .set(admin)
      .send({ modelId: model, pricePer1kTokens: '1', unitPrices: { web_search_call: '2' } });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
  });
  afterAll(async () => {
    await expectInvariants(t, users);
    await t.close();
  });

  it('a rule pricing one is refused, and no rule is written', async () => {
    for (const key of KEYS) {
      const modelId = uniqueId('openai.protorule');
      for (const fields of [
        `"unitPrices":{"${key}":"2","web_search_call":"1"}`,
        `"serviceTiers":{"${key}":{"pricePercent":50}}`,
      ]) {
        const res = await raw('/api/pricing', `{"modelId":"${modelId}","pricePer1kTokens":"1",${fields}}`);
        expect(res.status, `${key} ${fields}`).toBe(400);
        expect(res.body.message).toBe(`body must not contain a ${key} key`);
      }
      const { rowCount } = await t.db.query(`SELECT 1 FROM pricing_rules WHERE model_id = $1`, [modelId]);
      expect(rowCount, key).toBe(0);
    }
  });

  it('a quote or a record counting one is refused, and nothing is charged', async () => {
    const user = await f.newUser({ credits: 100 });
    for (const key of KEYS) {
      const units = `{"${key}":5,"web_search_call":1}`;
      const quote = await raw('/api/credits/calculate', `{"modelId":"${model}","units":${units}}`);
      expect(quote.status, key).toBe(400);
      expect(quote.body.message).toBe(`body must not contain a ${key} key`);
      const rec = await raw(
        '/api/usage/record',
        `{"userId":"${user.id}","service":"chat","operation":"c","modelId":"${model}","units":${units}}`,
      );
      expect(rec.status, key).toBe(400);
    }
    expect(await f.available(user.id)).toBe(100);
    const { rowCount } = await t.db.query(`SELECT 1 FROM usage_records WHERE user_id = $1`, [user.id]);
    expect(rowCount).toBe(0);
    // The other units are priced as ever.
    const ok = await t.http
      .post('/api/usage/record')
      .set(admin)
      .send({ userId: user.id, service: 'chat', operation: 'c', modelId: model, units: { web_search_call: 3 } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(ok.body.credits).toBe(6);
  });
});
