import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { TestOnlyModule } from './support/test-only.controller.js';

/** Cross-cutting behaviour: validation, error shapes, body limit, request ids, throttling, docs. */
describe('foundation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({}, { modules: [TestOnlyModule] });
  });
  afterAll(() => t?.close());

  const parsed = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, any>);

  describe('validation', () => {
    const auth = () => bearer(token({ sub: uniqueId() }));

    it('accepts a valid body and transforms it', async () => {
      const res = await t.http.post('/test-only/echo').set(auth()).send({ name: 'x', count: 3 }).expect(201);
      expect(res.body).toEqual({ name: 'x', count: 3, countType: 'number' });
    });

    it('rejects an unknown body field with a message array', async () => {
      const res = await t.http
        .post('/test-only/echo')
        .set(auth())
        .send({ name: 'x', count: 1, admin: true })
        .expect(400);
      expect(res.body).toEqual({ statusCode: 400, message: expect.any(Array), error: 'Bad Request' });
      expect(res.body.message.join(' ')).toMatch(/property admin should not exist/);
    });

    it('rejects a wrong type with a message array naming the field', async () => {
      const res = await t.http.post('/test-only/echo').set(auth()).send({ name: 5, count: 'many' }).expect(400);
      expect(res.body.statusCode).toBe(400);
      expect(res.body.message).toEqual(
        expect.arrayContaining([expect.stringMatching(/^name/), expect.stringMatching(/^count/)]),
      );
    });

    it('rejects malformed JSON with 400 in the error shape', async () => {
      const res = await t.http
        .post('/test-only/echo')
        .set(auth())
        .set('Content-Type', 'application/json')
        .send('{"name":')
        .expect(400);
      expect(res.body).toEqual({ statusCode: 400, message: 'Malformed JSON body', error: 'Bad Request' });
    });

    it('rejects an unknown query parameter and a wrong-typed one', async () => {
      const supervisor = bearer(token({ sub: uniqueId(), role: 'supervisor' }));
      const unknown = await t.http.get('/api/users').query({ order: 'email' }).set(supervisor).expect(400);
      expect(unknown.body.message).toEqual(['property order should not exist']);
      const wrongType = await t.http.get('/api/users').query({ limit: 'lots' }).set(supervisor).expect(400);
      expect(wrongType.body.message).toEqual(expect.arrayContaining([expect.stringMatching(/^limit/)]));
      const tooBig = await t.http.get('/api/users').query({ limit: 501 }).set(supervisor).expect(400);
      expect(tooBig.body.message).toEqual(['limit must not be greater than 500']);
    });

    it('rejects a forged cursor with 400', async () => {
      const supervisor = bearer(token({ sub: uniqueId(), role: 'supervisor' }));
      const res = await t.http.get('/api/users').query({ cursor: 'not-a-cursor' }).set(supervisor).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    });
  });

  it('answers an unknown route with 404 in the error shape', async () => {
    const res = await t.http.get('/api/no-such-route').expect(404);
    expect(res.body).toEqual({ statusCode: 404, message: 'Cannot GET /api/no-such-route', error: 'Not Found' });
  });

  describe('internal errors', () => {
    it('a thrown error becomes a bare 500 with the request id, no stack, no SQL', async () => {
      const res = await t.http.post('/test-only/boom').set(bearer(token())).send({}).expect(500);
      expect(res.body).toEqual({
        statusCode: 500,
        message: 'Internal server error',
        error: 'Internal Server Error',
        requestId: res.headers['x-request-id'],
      });
      expect(JSON.stringify(res.body)).not.toMatch(/SELECT|secrets|at .*\.ts|stack/i);
      // The detail is in the log, tied to the request.
      const line = parsed(t.logs).find(
        (l) => l.err?.message?.includes('SELECT password') && l.requestId === res.body.requestId,
      );
      expect(line?.err.stack).toMatch(/test-only\.controller/);
    });

    it('a failing SQL statement becomes a bare 500 without the SQL or the table', async () => {
      const res = await t.http.get('/test-only/bad-sql').set(bearer(token())).expect(500);
      expect(res.body).toMatchObject({
        statusCode: 500,
        message: 'Internal server error',
        error: 'Internal Server Error',
      });
      expect(JSON.stringify(res.body)).not.toMatch(/no_such_table|secret_column|SELECT|relation/i);
    });
  });

  describe('request id and logs', () => {
    it('generates an X-Request-Id, or keeps a sane one from the caller', async () => {
      const generated = await t.http.get('/health').expect(200);
      expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      const kept = await t.http.get('/health').set('X-Request-Id', 'trace-abc.123').expect(200);
      expect(kept.headers['x-request-id']).toBe('trace-abc.123');
      const replaced = await t.http.get('/health').set('X-Request-Id', 'bad id with spaces').expect(200);
      expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('every log line written while serving a request carries its id (also after the body is parsed)', async () => {
      const requestId = `req-${uniqueId()}`;
      const name = `log-${uniqueId()}`;
      const before = t.logs.length;
      await t.http
        .post('/test-only/echo')
        .set(bearer(token()))
        .set('X-Request-Id', requestId)
        .send({ name, count: 1 })
        .expect(201);
      await t.http
        .post('/test-only/boom')
        .set(bearer(token()))
        .set('X-Request-Id', `${requestId}-boom`)
        .send({ a: 1 })
        .expect(500);
      const lines = parsed(t.logs.slice(before));
      const idOf = (l: Record<string, any>) => l.req?.id ?? l.reqId;

      const echoLine = lines.find((l) => l.msg === `echo ${name}`);
      expect(echoLine).toBeDefined();
      expect(idOf(echoLine!)).toBe(requestId);

      const boomLines = lines.filter(
        (l) => l.msg === 'about to fail' || l.msg === 'request failed' || l.res?.statusCode === 500,
      );
      expect(boomLines.length).toBeGreaterThanOrEqual(3); // handler warn, filter error, access log
      for (const line of boomLines) expect(idOf(line)).toBe(`${requestId}-boom`);
    });

    it('keeps the request id on log lines when the body arrives in slow chunks', async () => {
      const server = t.app.getHttpServer();
      const { port } = server.address() as AddressInfo;
      const requestId = `slow-${uniqueId()}`;
      const name = `slow-${uniqueId()}`;
      const body = JSON.stringify({ name, count: 2 });
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/test-only/echo',
            headers: {
              ...bearer(token()),
              'Content-Type': 'application/json',
              'Content-Length': Buffer.byteLength(body),
              'X-Request-Id': requestId,
            },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.write(body.slice(0, 5));
        setTimeout(() => req.end(body.slice(5)), 150);
      });
      expect(status).toBe(201);
      const line = parsed(t.logs).find((l) => l.msg === `echo ${name}`);
      expect(line?.req?.id ?? line?.reqId).toBe(requestId);
    });

    it('logs are JSON with level, time and service, and never contain credentials', async () => {
      const secretToken = token();
      const before = t.logs.length;
      await t.http.post('/test-only/boom').set(bearer(secretToken)).send({}).expect(500);
      await t.http.get('/api/users/me').set('X-API-Key', 'ak_should_not_be_logged').expect(401);
      const lines = t.logs.slice(before);
      expect(lines.length).toBeGreaterThan(0);
      for (const raw of lines) {
        const line = JSON.parse(raw);
        expect(line).toMatchObject({
          level: expect.any(Number),
          time: expect.any(String),
          service: 'accounting-service',
        });
        expect(raw).not.toContain(secretToken);
        expect(raw).not.toContain('ak_should_not_be_logged');
      }
    });
  });

  it('database sessions carry the configured timeouts, UTC and the application name', async () => {
    const dataSource = t.app.get(DataSource);
    const [row] = await dataSource.query(
      `SELECT current_setting('statement_timeout') AS statement, current_setting('lock_timeout') AS lock,
              current_setting('idle_in_transaction_session_timeout') AS idle, current_setting('TimeZone') AS tz,
              current_setting('application_name') AS app`,
    );
    expect(row).toEqual({ statement: '15s', lock: '10s', idle: '30s', tz: 'UTC', app: 'accounting-service' });
    expect((dataSource.driver as unknown as { master: { options: { max: number } } }).master.options.max).toBe(10);
  });

  it('sets security headers (helmet) and no X-Powered-By', async () => {
    const res = await t.http.get('/health').expect(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('serves Swagger UI and the OpenAPI document with both authorize schemes', async () => {
    const ui = await t.http.get('/api/docs').redirects(1).expect(200);
    expect(ui.text).toMatch(/swagger-ui/i);
    const doc = await t.http.get('/api/docs-json').expect(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(doc.body.components.securitySchemes).toMatchObject({
      bearer: { type: 'http', scheme: 'bearer' },
      'api-key': { type: 'apiKey', in: 'header', name: 'X-API-Key' },
    });
  });

  it('documents the Idempotency-Key answers (409 in progress, 422 reused) on every POST, keeping the route’s own 409', async () => {
    const doc = await t.http.get('/api/docs-json').expect(200);
    const posts = Object.entries(
      doc.body.paths as Record<
        string,
        { post?: { responses: Record<string, { description: string; content?: unknown }> } }
      >,
    )
      .filter(([, item]) => item.post)
      .map(([path, item]) => [path, item.post!] as const);
    expect(posts.length).toBeGreaterThan(5);
    for (const [path, post] of posts) {
      expect(post.responses['409']?.description, path).toMatch(/Idempotency-Key/);
      expect(post.responses['422']?.description, path).toMatch(/Idempotency-Key/);
      expect(post.responses['422'].content, path).toBeDefined();
    }
    const initialize = posts.find(([path]) => path === '/api/streaming-sessions/initialize')![1];
    expect(initialize.responses['409'].description).toMatch(/already used this sessionId/);
  });
});

describe('body limit and throttling (BODY_LIMIT=1kb, THROTTLE_LIMIT=3)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(
      { BODY_LIMIT: '1kb', THROTTLE_LIMIT: '3', THROTTLE_TTL_SECONDS: '60' },
      { modules: [TestOnlyModule] },
    );
  });
  afterAll(() => t?.close());

  it('answers a body over the limit with 413 in the error shape', async () => {
    const res = await t.http
      .post('/test-only/echo')
      .set(bearer(token()))
      .send({ name: 'x'.repeat(1500), count: 1 })
      .expect(413);
    expect(res.body).toEqual({ statusCode: 413, message: 'Request body too large', error: 'Payload Too Large' });
    // Just under the limit is fine.
    await t.http
      .post('/test-only/echo')
      .set(bearer(token()))
      .send({ name: 'x'.repeat(900), count: 1 })
      .expect(201);
  });

  it('throttles per user: the 4th request in the window is 429 with Retry-After; others are unaffected', async () => {
    const alice = bearer(token({ sub: uniqueId('alice') }));
    for (let i = 0; i < 3; i++) await t.http.get('/api/users/me').set(alice).expect(200);
    const limited = await t.http.get('/api/users/me').set(alice).expect(429);
    expect(limited.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);

    // Same address, another user: its own budget.
    const bob = bearer(token({ sub: uniqueId('bob') }));
    for (let i = 0; i < 3; i++) await t.http.get('/api/users/me').set(bob).expect(200);

    // Health is exempt.
    for (let i = 0; i < 6; i++) await t.http.get('/health').expect(200);
    await t.http.get('/api/health/ready').expect(200);
  });

  it('the budget is per principal across routes, not per route', async () => {
    const carol = bearer(token({ sub: uniqueId('carol') }));
    await t.http.get('/api/users/me').set(carol).expect(200);
    await t.http.get('/api/credits/balance').set(carol).expect(200);
    await t.http.get('/api/pricing').set(carol).expect(200);
    const limited = await t.http.get('/api/credits/allocations').set(carol).expect(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    await t.http.post('/api/credits/check').set(carol).send({ credits: 1 }).expect(429);
  });
});
