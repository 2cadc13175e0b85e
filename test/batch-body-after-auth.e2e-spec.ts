import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';

/**
 * "An unauthenticated request costs no more than a small one": the batch route's body (up to
 * BATCH_BODY_LIMIT, 2 MB) is parsed only once its caller is authenticated and allowed to meter. What
 * a 2 MB body cost before its 401 was its JSON.parse and the walk of the parsed value: here a spy on
 * JSON.parse tells, deterministically, whether the body was parsed at all (bench/unauthenticated.mjs
 * measures the CPU).
 */
const BATCH = '/api/usage/records/batch';
const TWO_MB = 2 * 1024 * 1024 - 1024;

/** ~700,000 empty arrays: the costliest 2 MB found to parse and walk. */
const costly = `{"events":[${Array(Math.floor((TWO_MB - 20) / 3))
  .fill('[]')
  .join(',')}]}`;

describe('the batch body is read after authentication', () => {
  let t: TestApp;
  let parse: MockInstance<typeof JSON.parse>;
  const admin = bearer(token({ sub: uniqueId('batch-admin'), role: 'admin' }));
  /** JSON.parse calls on a text of at least `min` characters since the spy was set. */
  const parsedBodies = (min = TWO_MB / 2) =>
    parse.mock.calls.filter(([text]) => typeof text === 'string' && text.length >= min).length;
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    t.http
      .post(path)
      .set({ 'Content-Type': 'application/json', ...headers })
      .send(body);

  beforeAll(async () => {
    // The default trust: only service principals meter (a user's token is refused by the access guard).
    t = await startTestApp({ METERING_TRUST: 'service' });
    await t.http.get('/api/users/me').set(admin).expect(200);
  });
  afterAll(() => t?.close());
  beforeEach(() => {
    parse = vi.spyOn(JSON, 'parse');
  });
  afterEach(() => parse.mockRestore());

  it.each([
    ['no credentials', {}, 401],
    ['a malformed JWT', bearer('not.a.jwt'), 401],
    ['an expired JWT', bearer(token({}, { expiresIn: -60 })), 401],
    ['an unknown API key', { 'X-API-Key': `acs_live_${Buffer.alloc(32, 5).toString('base64url')}` }, 401],
    ['a user who may not meter', bearer(token({ sub: uniqueId('user') })), 403],
  ])('%s: refused without parsing a 2 MB body', async (_name, headers, status) => {
    const res = await post(BATCH, costly, headers);
    expect(res.status).toBe(status);
    expect(parsedBodies()).toBe(0);
  });

  it('however the route is spelled', async () => {
    for (const path of [`${BATCH}/`, BATCH.toUpperCase(), `${BATCH}?x=1`]) {
      expect((await post(path, costly)).status).toBe(401);
    }
    expect(parsedBodies()).toBe(0);
  });

  it('an authenticated service principal’s body is parsed once, and refused or accepted as before', async () => {
    const res = await post(BATCH, costly, admin);
    // Parsed (once), then refused by validation: 700,000 events is not 1–1000.
    expect(res.status).toBe(400);
    expect(parsedBodies()).toBe(1);

    const userId = uniqueId('batch-billed');
    await t.http
      .get('/api/users/me')
      .set(bearer(token({ sub: userId })))
      .expect(200);
    const event = { eventId: 'e1', userId, service: 'chat', operation: 'completion', credits: 0 };
    const ok = await post(BATCH, JSON.stringify({ events: [event] }), admin).expect(200);
    expect(ok.body.results).toEqual([expect.objectContaining({ eventId: 'e1', status: 'created' })]);
    // Through the other spellings of the route too (the body still gets read).
    const again = await post(`${BATCH}/`, JSON.stringify({ events: [event] }), admin).expect(200);
    expect(again.body.results).toEqual([expect.objectContaining({ eventId: 'e1', status: 'duplicate' })]);
  });

  it('keeps its answers for what the body is: 413 over BATCH_BODY_LIMIT, 400 malformed, 415 not JSON', async () => {
    const over = await post(BATCH, JSON.stringify({ events: [], pad: 'x'.repeat(2 * 1024 * 1024) }), admin);
    expect(over.status).toBe(413);
    expect(over.body).toEqual({ statusCode: 413, message: 'Request body too large', error: 'Payload Too Large' });
    const malformed = await post(BATCH, '{"events": [', admin);
    expect(malformed.body).toEqual({ statusCode: 400, message: 'Malformed JSON body', error: 'Bad Request' });
    await t.http.post(BATCH).set(admin).set('Content-Type', 'text/plain').send('hi').expect(415);
  });

  it('refuses what the request-shape check refuses in any body', async () => {
    const deep = `{"events":[${'['.repeat(40)}${']'.repeat(40)}]}`;
    const res = await post(BATCH, deep, admin);
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/nests deeper than 32 levels/);
    const proto = await post(BATCH, '{"events":[{"__proto__":{"x":1}}]}', admin);
    expect(proto.status).toBe(400);
    expect(proto.body.message).toMatch(/__proto__/);
    const surrogate = await post(BATCH, '{"events":[{"eventId":"\\ud800"}]}', admin);
    expect(surrogate.status).toBe(400);
    expect(surrogate.body.message).toMatch(/lone surrogate/);
  });
});
