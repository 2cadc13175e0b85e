import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';

const admin = bearer(tokenFor('admin', 'edge-answers-admin'));

/**
 * Writes whose body names an account, resolved by the access guard (src/auth/access.guard.ts) and
 * answered where the service decides: each keeps the answer the route gives an unknown org, an
 * unknown user and an erased person (docs/erasure.md), whatever the guard's own 404 would say.
 */
describe('answers of accounts a body names', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const model = uniqueId('anthropic.edge');
  const missingOrg = uniqueId('no-org');
  const missingUser = uniqueId('no-user');
  let user: string;
  let erased: string;
  const post = (path: string, body: object) => t.http.post(path).set(admin).send(body);

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'edge' });
    await post('/api/pricing', { modelId: model, pricePer1kTokens: '1' }).expect(201);
    user = (await f.newUser({ credits: 1000 })).id;
    erased = (await f.newUser({ credits: 10 })).id;
    await post('/api/usage/record', {
      userId: user,
      service: 'chat',
      operation: 'c',
      modelId: model,
      tokens: 1000,
    }).expect(201);
    await post(`/api/users/${erased}/erasure`, { reason: 'Asked' }).expect(200);
  }, 120_000);
  afterAll(() => t?.close());

  it('an account price names a missing org "Organisation" and a missing user "User"; an erased one is 409', async () => {
    const price = { modelId: model, discountPercent: '10', effectiveFrom: '2099-01-01T00:00:00.000Z' };
    const org = await post('/api/pricing/accounts', { ...price, orgId: missingOrg });
    expect([org.status, org.body.code, org.body.message]).toEqual([404, 'NOT_FOUND', 'Organisation not found']);
    const nobody = await post('/api/pricing/accounts', { ...price, userId: missingUser });
    expect([nobody.status, nobody.body.message]).toEqual([404, 'User not found']);
    const gone = await post('/api/pricing/accounts', { ...price, userId: erased });
    expect([gone.status, gone.body.code]).toEqual([409, 'ACCOUNT_ERASED']);
  });

  it('a simulation of a missing owner prices no records; naming two is bad input', async () => {
    const range = { from: '2000-01-01T00:00:00.000Z', to: new Date(Date.now() + 86_400_000).toISOString() };
    const body = { ...range, rules: [{ modelId: model, pricePer1kTokens: '2' }], groupBy: 'model' };
    // The range is longer than a simulation may be: the refusal comes before any account is read.
    expect((await post('/api/pricing/simulations', { ...body, userId: missingUser })).body.code).toBe('RANGE_TOO_LONG');
    const recent = { ...body, from: new Date(Date.now() - 86_400_000).toISOString() };
    const own = await post('/api/pricing/simulations', { ...recent, userId: user });
    expect([own.status, own.body.records]).toEqual([200, 1]);
    const nobody = await post('/api/pricing/simulations', { ...recent, userId: missingUser });
    expect([nobody.status, nobody.body.records]).toEqual([200, 0]);
    const both = await post('/api/pricing/simulations', { ...recent, userId: user, orgId: missingOrg });
    expect([both.status, both.body.message]).toEqual([400, 'Give userId or orgId, not both']);
  });

  it('a transfer answers a missing org NOT_A_MEMBER, a missing user 404 and an erased one 409, side by side', async () => {
    const before = await f.available(user);
    const fromOrg = await post('/api/credits/transfers', {
      from: { orgId: missingOrg },
      to: { userId: user },
      credits: 1,
    });
    expect([fromOrg.status, fromOrg.body.code]).toEqual([403, 'NOT_A_MEMBER']);
    const toNobody = await post('/api/credits/transfers', {
      from: { userId: user },
      to: { userId: missingUser },
      credits: 1,
    });
    expect([toNobody.status, toNobody.body.message]).toEqual([404, 'User not found']);
    // The first side's refusal is the answer, as the sides are read in order.
    const both = await post('/api/credits/transfers', {
      from: { userId: erased },
      to: { orgId: missingOrg },
      credits: 1,
    });
    expect([both.status, both.body.code]).toEqual([409, 'ACCOUNT_ERASED']);
    expect(await f.available(user)).toBe(before);
  });

  it('a purchase answers a missing org NOT_A_MEMBER, a missing user 404 and an erased one 409', async () => {
    const purchase = { credits: 100, amount: '1.00', currency: 'usd', provider: 'edge', expiryDays: 30 };
    const org = await post('/api/purchases', { ...purchase, orgId: missingOrg, providerRef: uniqueId('p') });
    expect([org.status, org.body.code]).toEqual([403, 'NOT_A_MEMBER']);
    const nobody = await post('/api/purchases', { ...purchase, userId: missingUser, providerRef: uniqueId('p') });
    expect([nobody.status, nobody.body.message]).toEqual([404, 'User not found']);
    const gone = await post('/api/purchases', { ...purchase, userId: erased, providerRef: uniqueId('p') });
    expect([gone.status, gone.body.code]).toEqual([409, 'ACCOUNT_ERASED']);
  });
});
