import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';

const admin = bearer(tokenFor('admin', 'acct-price-admin'));

/**
 * Pricing by account (docs/pricing.md): model lists on keys, orgs and plans, checked on every metering
 * write; account prices, effective-dated and exact; the simulation of the rules in force.
 */
describe('pricing by account', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const model = uniqueId('anthropic.acct');
  const post = (path: string, body: object, auth: Record<string, string> = admin) =>
    t.http.post(path).set(auth).send(body);
  const recordCount = async (userId: string) =>
    Number((await t.db.query(`SELECT count(*) AS n FROM usage_records WHERE user_id = $1`, [userId])).rows[0].n);

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'acct' });
    // input 1, output 1 per 1,000 tokens
    expect((await post('/api/pricing', { modelId: model, pricePer1kTokens: '1' })).status).toBe(201);
  });
  afterAll(() => t?.close());

  it('a key limited to anthropic.* is refused a gpt-4o record (403, nothing written) and a batch event alone', async () => {
    const user = await f.newUser({ credits: 1000 });
    const key = await f.apiKey(
      { auth: admin },
      { permissions: ['usage:ingest', 'credits:read'], models: ['anthropic.*'] },
    );
    expect((key as unknown as { models: string[] }).models).toEqual(['anthropic.*']);
    const auth = { 'X-API-Key': key.key };
    const refused = await post(
      '/api/usage/record',
      { userId: user.id, service: 'chat', operation: 'c', modelId: 'gpt-4o', tokens: 1000 },
      auth,
    );
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('MODEL_NOT_ENTITLED');
    expect(await recordCount(user.id)).toBe(0);
    expect(await f.available(user.id)).toBe(1000);
    const allowed = await post(
      '/api/usage/record',
      { userId: user.id, service: 'chat', operation: 'c', modelId: model, tokens: 1000 },
      auth,
    );
    expect(allowed.status).toBe(201);

    const batch = await post(
      '/api/usage/records/batch',
      {
        events: [
          { eventId: uniqueId('e'), userId: user.id, service: 'chat', operation: 'c', modelId: model, tokens: 1000 },
          { eventId: uniqueId('e'), userId: user.id, service: 'chat', operation: 'c', modelId: 'gpt-4o', tokens: 10 },
          { eventId: uniqueId('e'), userId: user.id, service: 'chat', operation: 'c', modelId: model, tokens: 2000 },
        ],
      },
      auth,
    );
    expect(batch.status).toBe(200);
    expect(batch.body.results.map((r: { status: string }) => r.status)).toEqual(['created', 'invalid', 'created']);
    expect(batch.body.results[1].error).toMatch(/^MODEL_NOT_ENTITLED/);
    expect(await recordCount(user.id)).toBe(3);
    const init = await post(
      '/api/streaming-sessions/initialize',
      { userId: user.id, modelId: 'gpt-4o', estimatedTokens: 10 },
      auth,
    );
    expect(init.status).toBe(403);
    expect(init.body.code).toBe('MODEL_NOT_ENTITLED');
    // The same key quoting: entitled false; PATCH clears the list.
    const quote = await post('/api/credits/calculate', { modelId: 'gpt-4o', tokens: 10 }, auth);
    expect(quote.body.entitled).toBe(false);
    const cleared = await t.http.patch(`/api/api-keys/${key.id}`).set(admin).send({ models: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body.models).toBeNull();
    expect((await t.http.patch(`/api/api-keys/${key.id}`).set(admin).send({ models: [] })).status).toBe(400);
  });

  it("an org's list and its plan's list both apply", async () => {
    const owner = await f.newUser();
    const orgId = uniqueId('acctorg')
      .toLowerCase()
      .replace(/[^a-z0-9_-]/g, '');
    expect((await post('/api/orgs', { orgId, name: orgId, ownerUserId: owner.id })).status).toBe(201);
    await post('/api/credits/allocate', { orgId, credits: 1000 });
    const planId = uniqueId('acctplan')
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '');
    expect(
      (
        await post('/api/plans', {
          id: planId,
          name: 'p',
          credits: 10,
          period: 'month',
          models: ['gpt-*', 'anthropic.*'],
        })
      ).status,
    ).toBe(201);
    const sub = await t.http.put(`/api/orgs/${orgId}/subscription`).set(admin).send({ planId });
    expect(sub.status, JSON.stringify(sub.body)).toBe(200);
    const put = await t.http
      .put(`/api/orgs/${orgId}/models`)
      .set(admin)
      .send({ models: ['anthropic.*', 'mistral.*'] });
    expect(put.status).toBe(200);
    expect(put.body.models).toEqual(['anthropic.*', 'mistral.*']);
    const write = (modelId: string) =>
      post('/api/usage/record', { userId: owner.id, orgId, service: 'chat', operation: 'c', modelId, tokens: 1000 });
    expect((await write(model)).status).toBe(201); // both allow anthropic.*
    expect((await write('gpt-4o')).body.code).toBe('MODEL_NOT_ENTITLED'); // the org's list refuses it
    expect((await write('mistral.large')).body.code).toBe('MODEL_NOT_ENTITLED'); // the plan's list refuses it
    const quote = await post('/api/credits/calculate', { modelId: 'mistral.large', tokens: 1, orgId });
    expect(quote.body.entitled).toBe(false);
  });

  it('a 12.5 % discount is priced exactly and rounded up once; records and quotes carry the account price', async () => {
    const user = await f.newUser({ credits: 1000 });
    const created = await post('/api/pricing/accounts', {
      userId: user.id,
      modelId: 'anthropic.*',
      discountPercent: 12.5,
      effectiveFrom: new Date().toISOString(),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.discountPercent).toBe('12.50');
    // 500 input + 500 output at 1 × 0.875: each kind apart would be ceil(0.4375) + ceil(0.4375) = 2; once: ceil(0.875) = 1.
    const rec = await post('/api/usage/record', {
      userId: user.id,
      service: 'chat',
      operation: 'c',
      modelId: model,
      inputTokens: 500,
      outputTokens: 500,
    });
    expect(rec.status).toBe(201);
    expect(rec.body.credits).toBe(1);
    expect(rec.body.accountPriceId).toBe(created.body.id);
    // 8,000 tokens at 0.875: exactly 7, not 8.
    const quote = await post('/api/credits/calculate', { modelId: model, tokens: 8000, userId: user.id });
    expect(quote.body).toMatchObject({
      credits: 7,
      accountPriceId: created.body.id,
      discountPercent: '12.50',
      entitled: true,
    });
    // An exact model id wins over the prefix.
    const exact = await post('/api/pricing/accounts', {
      userId: user.id,
      modelId: model,
      pricePer1kTokens: '0.5',
      effectiveFrom: new Date().toISOString(),
    });
    expect(exact.status).toBe(201);
    const again = await post('/api/credits/calculate', { modelId: model, tokens: 8000, userId: user.id });
    expect(again.body).toMatchObject({ credits: 4, accountPriceId: exact.body.id });
    const list = await t.http.get(`/api/pricing/accounts?userId=${user.id}`).set(admin);
    expect(list.body.items.map((p: { id: string }) => p.id).sort()).toEqual([created.body.id, exact.body.id].sort());
    // A session holds and settles at the account price: 8,000 tokens at 0.5 (the exact id's price) = 4.
    const sessionId = uniqueId('s');
    const init = await post('/api/streaming-sessions/initialize', {
      userId: user.id,
      sessionId,
      modelId: model,
      estimatedTokens: 8000,
    });
    expect(init.body).toMatchObject({ estimatedCredits: 4 });
    const done = await post('/api/streaming-sessions/finalize', { userId: user.id, sessionId, actualTokens: 6000 });
    expect(done.body).toMatchObject({ status: 'completed', actualCredits: 3 });
    const settled = await t.db.query(
      `SELECT credits, account_price_id FROM usage_records WHERE user_id = $1 AND service = 'chat-streaming'`,
      [user.id],
    );
    expect(settled.rows).toEqual([{ credits: 3, account_price_id: exact.body.id }]);
    // Started: cannot be deleted.
    const del = await t.http.delete(`/api/pricing/accounts/${created.body.id}`).set(admin);
    expect(del.status).toBe(409);
    expect(del.body.code).toBe('ACCOUNT_PRICE_STARTED');
  });

  it("a user's price and an org's of the same id never mix: each prices its own account only", async () => {
    // User ids and org ids may be equal without naming the same account.
    const id = uniqueId('acctsame')
      .toLowerCase()
      .replace(/[^a-z0-9_-]/g, '');
    await t.http
      .get('/api/users/me')
      .set(bearer(tokenFor('user', id)))
      .expect(200);
    users.push(id);
    await f.grant(id, 1000);
    expect((await post('/api/orgs', { orgId: id, name: id, ownerUserId: id })).status).toBe(201);
    expect((await post('/api/credits/allocate', { orgId: id, credits: 1000 })).status).toBe(201);
    const from = new Date().toISOString();
    const own = await post('/api/pricing/accounts', {
      userId: id,
      modelId: model,
      discountPercent: '50',
      effectiveFrom: from,
    });
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    const org = await post('/api/pricing/accounts', {
      orgId: id,
      modelId: model,
      pricePer1kTokens: '0.25',
      effectiveFrom: from,
    });
    expect(org.status, JSON.stringify(org.body)).toBe(201);
    expect(
      [own.body, org.body].map((p: { userId: string | null; orgId: string | null }) => [p.userId, p.orgId]),
    ).toEqual([
      [id, null],
      [null, id],
    ]);
    // Each row names its own account, of its kind.
    const rows = await t.db.query(
      `SELECT a.kind FROM account_prices p JOIN accounts a ON a.account_id = p.account_id WHERE p.id = ANY($1) ORDER BY a.kind`,
      [[own.body.id, org.body.id]],
    );
    expect(rows.rows).toEqual([{ kind: 'org' }, { kind: 'user' }]);
    // 8,000 tokens: the user's own at 1 × 50 % = 4, the org's at 0.25 = 2.
    const write = (orgId?: string) =>
      post('/api/usage/record', { userId: id, orgId, service: 'chat', operation: 'c', modelId: model, tokens: 8000 });
    expect((await write()).body).toMatchObject({ credits: 4, accountPriceId: own.body.id });
    expect((await write(id)).body).toMatchObject({ credits: 2, accountPriceId: org.body.id });
    const quote = (named: object) => post('/api/credits/calculate', { modelId: model, tokens: 8000, ...named });
    expect((await quote({ userId: id })).body).toMatchObject({ credits: 4, accountPriceId: own.body.id });
    expect((await quote({ orgId: id })).body).toMatchObject({ credits: 2, accountPriceId: org.body.id });
    const held = await post('/api/streaming-sessions/initialize', {
      userId: id,
      orgId: id,
      sessionId: uniqueId('s'),
      modelId: model,
      estimatedTokens: 8000,
    });
    expect(held.body).toMatchObject({ estimatedCredits: 2 });
    const list = async (query: string) =>
      (await t.http.get(`/api/pricing/accounts?${query}`).set(admin)).body.items.map((p: { id: string }) => p.id);
    expect(await list(`userId=${id}`)).toEqual([own.body.id]);
    expect(await list(`orgId=${id}`)).toEqual([org.body.id]);
    // The database refuses a row whose account is not its owner's: the user's id on the org's account.
    const mixed = await t.db
      .query(
        `INSERT INTO account_prices (account_id, user_id, model_id, discount_percent, effective_from, created_by)
         VALUES ((SELECT account_id FROM accounts WHERE org_id = $1), $1, 'mixed.*', 10, now() + interval '1 day', 'test')`,
        [id],
      )
      .catch((error: { code?: string; constraint?: string }) => error);
    expect(mixed).toMatchObject({ code: '23503', constraint: 'account_prices_account_user_fkey' });
  });

  it('an account price that starts tomorrow changes nothing today; one in the past is refused', async () => {
    const user = await f.newUser({ credits: 1000 });
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
    const later = await post('/api/pricing/accounts', {
      userId: user.id,
      modelId: model,
      discountPercent: '50',
      effectiveFrom: tomorrow,
    });
    expect(later.status).toBe(201);
    const rec = await post('/api/usage/record', {
      userId: user.id,
      service: 'chat',
      operation: 'c',
      modelId: model,
      tokens: 8000,
    });
    expect(rec.body).toMatchObject({ credits: 8, accountPriceId: null });
    const past = await post('/api/pricing/accounts', {
      userId: user.id,
      modelId: 'other.*',
      discountPercent: '50',
      effectiveFrom: new Date(Date.now() - 3_600_000).toISOString(),
    });
    expect(past.status).toBe(400);
    const both = await post('/api/pricing/accounts', {
      userId: user.id,
      modelId: 'x.*',
      discountPercent: '5',
      pricePer1kTokens: '1',
      effectiveFrom: tomorrow,
    });
    expect(both.status).toBe(400);
    // Not started: deleted, audited.
    const del = await t.http.delete(`/api/pricing/accounts/${later.body.id}`).set(admin);
    expect(del.status).toBe(200);
    const audit = await t.http.get(`/api/audit?targetId=${later.body.id}`).set(admin);
    expect(audit.body.items.map((e: { action: string }) => e.action).sort()).toEqual([
      'pricing.account.create',
      'pricing.account.delete',
    ]);
  });

  it('a simulation with the rules in force gives difference 0 and writes nothing', async () => {
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    // What a simulation of this spec's model could write: its records, its rules, its account prices
    // (counted for the model alone: other specs write records into the same database meanwhile).
    const written = async () =>
      (
        await t.db.query(
          `SELECT (SELECT count(*) FROM usage_records WHERE model_id = $1) AS records,
                  (SELECT count(*) FROM pricing_rules WHERE model_id = $1) AS rules,
                  (SELECT count(*) FROM account_prices WHERE model_id = $1) AS prices`,
          [model],
        )
      ).rows[0];
    const before = await written();
    expect(Number(before.records)).toBeGreaterThan(0);
    const res = await post('/api/pricing/simulations', {
      from,
      to,
      rules: [{ modelId: model, pricePer1kTokens: '1' }],
      groupBy: 'model',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.records).toBeGreaterThan(0);
    expect(res.body.difference).toBe(0);
    const cheaper = await post('/api/pricing/simulations', {
      from,
      to,
      rules: [{ modelId: model, pricePer1kTokens: '0.5' }],
      groupBy: 'account',
    });
    expect(cheaper.body.difference).toBeLessThan(0);
    expect(await written()).toEqual(before);
  });
});
