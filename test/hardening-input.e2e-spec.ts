import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';

const adminJwt = tokenFor('admin', 'streaming-admin');

// Bad input of any shape is a 400 (or 415) that changes nothing, never a 500.

let t: TestApp;
const users: string[] = [];
let f: Fixtures;
beforeAll(async () => {
  t = await startTestApp();
  f = new Fixtures(t, { users });
});
afterAll(() => t?.close());

const nested = (open: string, close: string, n: number, inner = '1') => open.repeat(n) + inner + close.repeat(n);

describe('request shape', () => {
  it('deeply nested JSON is 400 on every JSON POST (arrays and objects), and moves nothing', async () => {
    const { id: userId, jwt } = await f.newUser({ credits: 50 });
    const deepArrays = `{"service":"chat","operation":"x","credits":1,"metadata":{"a":${nested('[', ']', 1300)}}}`;
    const deepObjects = `{"service":"chat","operation":"x","credits":1,"metadata":${nested('{"a":', '}', 2400)}}`;
    for (const body of [deepArrays, deepObjects]) {
      for (const path of ['/api/usage/record', '/api/credits/check', '/api/streaming-sessions/initialize']) {
        const res = await t.http.post(path).set(bearer(jwt)).set('Content-Type', 'application/json').send(body);
        expect(res.status, path).toBe(400);
        expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
        expect(String(res.body.message)).toMatch(/nests deeper than/);
      }
    }
    expect(await f.available(userId)).toBe(50);
  });

  it('metadata nested to a realistic depth is accepted', async () => {
    const { jwt } = await f.newUser({ credits: 5 });
    const metadata = JSON.parse(nested('{"a":', '}', 20));
    await t.http
      .post('/api/usage/record')
      .set(bearer(jwt))
      .send({ service: 'chat', operation: 'x', credits: 1, metadata })
      .expect(201);
  });

  it('a lone surrogate in any string field is 400, not a 500', async () => {
    const admin = bearer(adminJwt);
    const { jwt } = await f.newUser({ credits: 5 });
    const cases: [string, string][] = [
      ['/api/credits/allocate', '{"userId":"lone-sur","credits":1,"email":"a\\ud800@example.com","username":"x"}'],
      ['/api/usage/record', '{"service":"chat\\udc00","operation":"x","credits":1}'],
      ['/api/usage/record', '{"service":"chat","operation":"x","credits":1,"metadata":{"k\\ud800":"v"}}'],
    ];
    for (const [path, body] of cases) {
      const auth = path.includes('allocate') ? admin : bearer(jwt);
      const res = await t.http.post(path).set(auth).set('Content-Type', 'application/json').send(body);
      expect(res.status, body).toBe(400);
      expect(String(res.body.message)).toMatch(/UTF-16/);
    }
  });

  it('null is refused where the schema does not allow it (outputTokens: null no longer means 0)', async () => {
    const { id: userId, jwt } = await f.newUser({ credits: 50 });
    const bodies = [
      {
        service: 'chat',
        operation: 'x',
        modelId: 'anthropic.claude-instant-v1',
        inputTokens: 1000,
        outputTokens: null,
      },
      { service: 'chat', operation: 'x', credits: 1, metadata: null },
      { service: 'chat', operation: 'x', credits: null, modelId: 'anthropic.claude-instant-v1', tokens: 1000 },
    ];
    for (const body of bodies) {
      const res = await t.http.post('/api/usage/record').set(bearer(jwt)).send(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    await t.http.post('/api/credits/check').set(bearer(jwt)).send({ credits: null }).expect(400);
    expect(await f.available(userId)).toBe(50);
  });

  it('prototype keys are refused in the query and the body like any unknown field', async () => {
    const { jwt } = await f.newUser({ credits: 5 });
    for (const q of ['constructor=1', '__proto__=1', 'prototype=x']) {
      const res = await t.http.get(`/api/credits/allocations?${q}`).set(bearer(jwt));
      expect(res.status, q).toBe(400);
    }
    await t.http
      .post('/api/credits/check')
      .set(bearer(jwt))
      .set('Content-Type', 'application/json')
      .send('{"credits":1,"constructor":{"name":"x"}}')
      .expect(400);
    await t.http
      .post('/api/credits/check')
      .set(bearer(jwt))
      .set('Content-Type', 'application/json')
      .send('{"credits":1,"metadata":{"__proto__":{"admin":true}}}')
      .expect(400);
  });

  it('a body that is not JSON is 415 "Unsupported Media Type"; void without a body is still fine', async () => {
    const { allocationIds } = await f.newUser({ credits: [5, 3] });
    const admin = bearer(adminJwt);
    const res = await t.http
      .post(`/api/credits/allocations/${allocationIds[0]}/void`)
      .set(admin)
      .set('Content-Type', 'text/plain')
      .send('reason=because');
    expect(res.status).toBe(415);
    expect(res.body).toEqual({
      statusCode: 415,
      error: 'Unsupported Media Type',
      message: 'Content-Type must be application/json',
    });
    const form = await t.http.post('/api/credits/check').set(bearer(token())).type('form').send({ credits: '1' });
    expect(form.status).toBe(415);
    // The allocation was not voided by the refused request; a bodiless void is accepted.
    const allocations = await t.db.query('SELECT voided_at FROM credit_allocations WHERE id = $1', [allocationIds[0]]);
    expect(allocations.rows[0].voided_at).toBeNull();
    await t.http.post(`/api/credits/allocations/${allocationIds[1]}/void`).set(admin).expect(200);
    const charset = await t.http
      .post('/api/credits/check')
      .set(bearer(token()))
      .set('Content-Type', 'application/json; charset=latin1')
      .send('{"credits":1}');
    expect(charset.status).toBe(415);
    expect(charset.body.error).toBe('Unsupported Media Type');
  });

  it('bad percent-encoding in a path parameter is a 400 with the error shape', async () => {
    const res = await t.http.get('/api/credits/balance/%E0%A4%A').set(bearer(adminJwt));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  });
});

describe('the OpenAPI document says what the service answers to input', () => {
  it('documents 400 wherever there is input, 413 and 415 wherever there is a body; limit is an integer', async () => {
    const doc = (await t.http.get('/api/docs-json').expect(200)).body as {
      paths: Record<
        string,
        Record<string, { parameters?: { in: string }[]; requestBody?: unknown; responses: object }>
      >;
      components: { schemas: Record<string, { properties: Record<string, { type?: string }> }> };
    };
    const missing: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const statuses = Object.keys(op.responses);
        const hasInput = op.requestBody || (op.parameters ?? []).some((p) => p.in === 'query' || p.in === 'path');
        if (hasInput && !statuses.includes('400')) missing.push(`${method} ${path} 400`);
        if (op.requestBody && !statuses.includes('413')) missing.push(`${method} ${path} 413`);
        if (op.requestBody && !statuses.includes('415')) missing.push(`${method} ${path} 415`);
      }
    }
    expect(missing).toEqual([]);
    for (const path of ['/api/users', '/api/credits/allocations', '/api/credits/ledger'])
      expect(Object.keys(doc.paths[path].get.responses)).toContain('400');
    const limit = (
      doc.paths['/api/credits/ledger'].get.parameters as unknown as { name: string; schema: object }[]
    ).find((p) => p.name === 'limit');
    expect(limit?.schema).toMatchObject({ type: 'integer' });
    expect(doc.components.schemas.CheckCreditsDto.properties.credits.type).toBe('integer');
    const limitOnApi = await t.http.get('/api/credits/ledger?limit=1.5').set(bearer(token()));
    expect(limitOnApi.status).toBe(400);
  });
});

describe('dates, cursors and ranges', () => {
  const forged = (t: string, id: string) => Buffer.from(JSON.stringify({ t, id })).toString('base64url');

  it('a forged cursor with an impossible date is 400 on every list', async () => {
    const admin = bearer(adminJwt);
    const { id: userId, jwt } = await f.newUser({ credits: 5 });
    const lists: [string, Record<string, string>][] = [
      ['/api/users', admin],
      ['/api/api-keys', bearer(jwt)],
      ['/api/credits/allocations', bearer(jwt)],
      ['/api/usage/records', bearer(jwt)],
      ['/api/streaming-sessions/active', bearer(jwt)],
      ['/api/streaming-sessions/active/all', admin],
      [`/api/streaming-sessions/active/${userId}`, admin],
    ];
    const cursors = [
      forged('2026-02-30T00:00:00.000000Z', '5b0f3a52-8d4e-4f7e-9c1a-2f1e3d4c5b6a'),
      forged('0000-01-01T00:00:00.000000Z', '5b0f3a52-8d4e-4f7e-9c1a-2f1e3d4c5b6a'),
      forged('2026-01-01T24:00:00.000000Z', '5b0f3a52-8d4e-4f7e-9c1a-2f1e3d4c5b6a'),
    ];
    for (const [path, auth] of lists) {
      for (const cursor of cursors) {
        const res = await t.http.get(`${path}?cursor=${cursor}`).set(auth);
        expect(res.status, `${path} ${cursor}`).toBe(400);
        expect(res.body.message).toBe('cursor is not valid');
      }
    }
    const ledger = await t.http
      .get(`/api/credits/ledger?cursor=${Buffer.from('{"id":"99999999999999999999"}').toString('base64url')}`)
      .set(bearer(jwt));
    expect(ledger.status).toBe(400);
  });

  it('endDate=9999-12-31 is accepted on every stats and records route; year 10000 and odd forms are 400', async () => {
    const admin = bearer(adminJwt);
    const { id: userId, jwt } = await f.newUser({ credits: 5 });
    await t.http
      .post('/api/usage/record')
      .set(bearer(jwt))
      .send({ service: 's', operation: 'o', credits: 2 })
      .expect(201);
    const routes: [string, Record<string, string>][] = [
      ['/api/usage/stats', bearer(jwt)],
      [`/api/usage/stats/${userId}`, admin],
      ['/api/usage/system-stats', admin],
      ['/api/usage/records', bearer(jwt)],
      ['/api/usage/records?format=csv&', bearer(jwt)],
    ];
    for (const [path, auth] of routes) {
      const join = path.endsWith('&') ? '' : path.includes('?') ? '&' : '?';
      const ok = await t.http.get(`${path}${join}startDate=2020-01-01&endDate=9999-12-31`).set(auth);
      expect(ok.status, path).toBe(200);
      for (const bad of ['10000-01-01', '2027-326', '20271122', '2027-W47', '2026-02-30']) {
        const res = await t.http.get(`${path}${join}endDate=${bad}`).set(auth);
        expect(res.status, `${path} ${bad}`).toBe(400);
      }
    }
    const stats = await t.http.get('/api/usage/stats?endDate=9999-12-31').set(bearer(jwt)).expect(200);
    expect(stats.body.totalCredits).toBe(2);
  });

  it('pricing dates in ordinal, basic or week form are 400 and create no rule', async () => {
    const admin = bearer(adminJwt);
    const modelId = `odd-dates-${Date.now()}`;
    for (const value of ['2027-326', '20271122', '2027-W47', '2027-02-29']) {
      for (const field of ['effectiveFrom', 'effectiveTo']) {
        const res = await t.http
          .post('/api/pricing')
          .set(admin)
          .send({ modelId, pricePer1kTokens: '1', [field]: value });
        expect(res.status, `${field}=${value}`).toBe(400);
      }
    }
    const rules = await t.db.query('SELECT count(*)::int AS n FROM pricing_rules WHERE model_id = $1', [modelId]);
    expect(rules.rows[0].n).toBe(0);
  });

  it('CSV filters are validated like JSON ones: a NUL in service is 400 before anything is streamed', async () => {
    const { jwt } = await f.newUser({ credits: 5 });
    for (const format of ['csv', 'json']) {
      const res = await t.http.get(`/api/usage/records?format=${format}&service=%00`).set(bearer(jwt));
      expect(res.status, format).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.body.message).toMatch(/NUL/);
    }
  });

  it('the largest token counts at the largest provider cost settle without overflow', async () => {
    const admin = bearer(adminJwt);
    const modelId = `max-cost-${Date.now()}`;
    await t.http
      .post('/api/pricing')
      .set(admin)
      .send({ modelId, pricePer1kTokens: '0', providerCostPer1kTokens: '999999.9999' })
      .expect(201);
    const { jwt } = await f.newUser({ credits: 5 });
    const init = await t.http
      .post('/api/streaming-sessions/initialize')
      .set(bearer(jwt))
      .send({ modelId, estimatedTokens: 10 })
      .expect(201);
    const fin = await t.http
      .post('/api/streaming-sessions/finalize')
      .set(bearer(jwt))
      .send({ sessionId: init.body.sessionId, inputTokens: 2147483646, outputTokens: 0 });
    expect(fin.status, JSON.stringify(fin.body)).toBe(200);
    const row = await t.db.query(
      `SELECT provider_cost::text AS cost FROM usage_records WHERE metadata->>'sessionId' = $1`,
      [init.body.sessionId],
    );
    // 2,147,483,646 × 999,999.9999 / 1000, exactly.
    expect(row.rows[0].cost).toBe('2147483645785.25163540');
    const system = await t.http.get('/api/usage/system-stats').set(admin).expect(200);
    expect(typeof system.body.providerCost).toBe('string');
  });
});
