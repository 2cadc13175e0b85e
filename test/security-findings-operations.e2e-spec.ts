import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, principal } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';

// The security review's findings about operations (docs/auto-recharge.md, docs/provider-usage.md,
// docs/operations.md): auto-recharge storms (13 attempts in seconds by a user's own token), and the
// smaller ones, each played again.

describe('security findings: operations', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const admin = principal('admin', 'sfo-admin');
  const supervisor = principal('supervisor', 'sfo-sup');

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'sfo' });
    await t.http.get('/api/users/me').set(admin.auth).expect(200);
    await t.http.get('/api/users/me').set(supervisor.auth).expect(200);
  });
  afterAll(() => t?.close());

  describe('finding: provider usage without counts', () => {
    it('a usage object with none of its format’s count fields is a 400 (it billed 0), nothing written', async () => {
      const u = await f.newUser({ credits: 100 });
      const modelId = uniqueId('sfo-model');
      await t.http.post('/api/pricing').set(admin.auth).send({ modelId, pricePer1kTokens: '1000' }).expect(201);
      const send = (usage: Record<string, unknown>) =>
        t.http
          .post('/api/usage/record')
          .set(u.auth)
          .send({ service: 'chat', operation: 'c', modelId, providerUsage: { format: 'anthropic', usage } });
      for (const usage of [{}, { prompt_tokens: 500, completion_tokens: 200 }]) {
        const res = await send(usage);
        expect(res.status, JSON.stringify(usage)).toBe(400);
        expect(JSON.stringify(res.body.message)).toMatch(/none of the anthropic format's token counts/);
      }
      const session = await t.http
        .post('/api/streaming-sessions/initialize')
        .set(u.auth)
        .send({ modelId, estimatedTokens: 10 })
        .expect(201);
      await t.http
        .post('/api/streaming-sessions/finalize')
        .set(u.auth)
        .send({ sessionId: session.body.sessionId, providerUsage: { format: 'openai.chat', usage: { total: 9 } } })
        .expect(400);
      const written = await t.db.query(`SELECT count(*)::int AS n FROM usage_records WHERE user_id = $1`, [u.id]);
      expect(written.rows[0].n).toBe(0);
      await send({ input_tokens: 7, output_tokens: 0 }).expect(201);
      // 12 still held by the open session, 7 billed.
      expect(await f.available(u.id)).toBe(100 - 12 - 7);
    });
  });

  describe('finding: auto-recharge storms', () => {
    const put = (caller: { Authorization: string }, body: Record<string, unknown>) =>
      t.http.put('/api/credits/auto-recharge').set(caller).send(body);
    const get = async (u: FixtureUser) =>
      (await t.http.get('/api/credits/auto-recharge').set(u.auth).expect(200)).body as {
        enabled: boolean;
        minIntervalMinutes: number;
        consecutiveFailures: number;
        attempts: { id: string; status: string }[];
      };
    const failOpenAttempt = async (u: FixtureUser) => {
      await f.recordUsage(u, 1).expect(201);
      const open = (await get(u)).attempts.filter((a) => a.status === 'open');
      expect(open).toHaveLength(1);
      await t.http.post(`/api/credits/auto-recharge/attempts/${open[0].id}/fail`).set(admin.auth).send({}).expect(200);
    };

    it('the account’s own user and org managers set minIntervalMinutes ≥ 5 (else 400); staff any ≥ 0', async () => {
      const u = await f.newUser();
      const body = { userId: u.id, enabled: true, belowCredits: 100, rechargeCredits: 1000 };
      for (const minIntervalMinutes of [0, 1, 4]) {
        const refused = await put(u.auth, { ...body, minIntervalMinutes });
        expect(refused.status).toBe(400);
        expect(JSON.stringify(refused.body.message)).toMatch(/at least 5/);
      }
      expect(await get(u)).toMatchObject({ enabled: false });
      expect((await put(u.auth, { ...body, minIntervalMinutes: 5 }).expect(200)).body.minIntervalMinutes).toBe(5);
      expect((await put(supervisor.auth, { ...body, minIntervalMinutes: 0 }).expect(200)).body.minIntervalMinutes).toBe(
        0,
      );

      const owner = await f.newUser();
      const orgId = uniqueId('sfo-org').toLowerCase();
      await t.http.post('/api/orgs').set(admin.auth).send({ orgId, name: 'Storms', ownerUserId: owner.id }).expect(201);
      const org = { orgId, enabled: true, belowCredits: 100, rechargeCredits: 1000 };
      await put(owner.auth, { ...org, minIntervalMinutes: 0 }).expect(400);
      await put(owner.auth, { ...org, minIntervalMinutes: 5 }).expect(200);
      await put(admin.auth, { ...org, minIntervalMinutes: 0 }).expect(200);
    });

    it('a PUT never resets the failures; once it turned itself off only staff turn it back on, counting afresh', async () => {
      const u = await f.newUser({ credits: 1000 });
      const body = { userId: u.id, enabled: true, belowCredits: 1000, rechargeCredits: 100 };
      await put(supervisor.auth, { ...body, minIntervalMinutes: 0 }).expect(200);
      await failOpenAttempt(u);
      // The user's own PUT and staff's keep the count.
      expect((await put(u.auth, { ...body, minIntervalMinutes: 5 }).expect(200)).body.consecutiveFailures).toBe(1);
      expect(
        (await put(supervisor.auth, { ...body, minIntervalMinutes: 0 }).expect(200)).body.consecutiveFailures,
      ).toBe(1);
      await failOpenAttempt(u);
      await failOpenAttempt(u);
      expect(await get(u)).toMatchObject({ enabled: false, consecutiveFailures: 3 });

      // Off by itself: its user may not turn it back on (nothing changes), but may change it while off.
      const refused = await put(u.auth, { ...body, minIntervalMinutes: 60 });
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('FORBIDDEN');
      expect(await get(u)).toMatchObject({ enabled: false, consecutiveFailures: 3, minIntervalMinutes: 0 });
      await put(u.auth, { ...body, enabled: false, minIntervalMinutes: 60 }).expect(200);
      await f.recordUsage(u, 1).expect(201);
      expect((await get(u)).attempts.filter((a) => a.status === 'open')).toHaveLength(0);

      const back = await put(supervisor.auth, { ...body, minIntervalMinutes: 0 }).expect(200);
      expect(back.body).toMatchObject({ enabled: true, consecutiveFailures: 0 });
      await f.recordUsage(u, 1).expect(201);
      expect((await get(u)).attempts.filter((a) => a.status === 'open')).toHaveLength(1);
      await expectInvariants(t, [u.id]);
    });
  });

  describe('finding: unverifiable Authorization headers', () => {
    let small: TestApp;
    beforeAll(async () => {
      small = await startTestApp({ ANONYMOUS_THROTTLE_LIMIT: '3' });
    });
    afterAll(() => small?.close());
    const me = (headers: Record<string, string>) => small.http.get('/api/users/me').set(headers);

    it('count in the address’s bucket of requests without credentials; a bearer token stays a 401', async () => {
      // Tokens this service signed (expired ones included) are clients that must refresh: not counted.
      const expired = bearer(token({ sub: 'sfo-expired' }, { expiresIn: -60 }));
      for (let i = 0; i < 5; i++) expect((await me(expired)).status).toBe(401);
      expect((await me({})).status).toBe(401);
      // Made-up headers are anonymous traffic: once the address is over the limit, 429.
      const made = [];
      for (let i = 0; i < 4; i++) made.push((await me({ Authorization: 'Basic Zm9vOmJhcg==' })).status);
      expect(made).toContain(429);
      const anonymous = await me({});
      expect(anonymous.status).toBe(429);
      expect(anonymous.headers['retry-after']).toBeDefined();
      // A bearer token is always answered 401 (never 429), signed here or not.
      expect((await me(bearer('not.a.token'))).status).toBe(401);
      expect(
        (await me(bearer(token({ sub: 'sfo-x' }, { secret: 'another-secret-that-is-long-enough-012345' })))).status,
      ).toBe(401);
      expect((await me(bearer(token({ sub: 'sfo-valid' })))).status).toBe(200);
    });
  });
});
