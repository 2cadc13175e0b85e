import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';

const admin = bearer(tokenFor('admin', 'edge-answers-admin'));

/**
 * Writes whose body names an account, resolved by the access guard (src/auth/access.guard.ts) and
 * answered where the service decides: each keeps the answer the route gives an unknown org, an
 * unknown user and an erased person (docs/erasure.md), whatever the guard's own 404 would say. Routes
 * on a row the path names (a correction, a purchase by its id), whose account the guard reads through
 * the row's owner (AuthRule `row`), keep the answers and the order of the service's own resolution.
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

  it('a correction and a purchase by its id answer from the account of their row, where the service decides', async () => {
    const answer = (r: { status: number; body: unknown }) => [r.status, r.body];
    const notFound = (what: string) => [
      404,
      { statusCode: 404, message: `${what} not found`, error: 'Not Found', code: 'NOT_FOUND' },
    ];
    const forbidden = [403, { statusCode: 403, message: 'Requires role supervisor', error: 'Forbidden' }];
    const [holder, member, stranger] = [await f.newUser(), await f.newUser(), await f.newUser()];
    const orgId = uniqueId('edge-org');
    await t.db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'admin')`, [orgId]);
    await t.db.query(`INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, 'member')`, [orgId, member.id]);
    const record = async (userId: string, org: string | null) =>
      (
        await t.db.query<{ id: string }>(
          `INSERT INTO usage_records (user_id, org_id, service, operation, credits, account_id)
           SELECT $1::varchar, $2::varchar, 'chat', 'c', 5, account_id FROM accounts
            WHERE CASE WHEN $2::varchar IS NULL THEN user_id = $1::varchar ELSE org_id = $2 END
           RETURNING id`,
          [userId, org],
        )
      ).rows[0].id;
    const own = await record(holder.id, null);
    const ofOrg = await record(member.id, orgId);
    const gone = await f.newUser();
    const goneRecord = await record(gone.id, null);
    await post(`/api/users/${gone.id}/erasure`, { reason: 'Asked' }).expect(200);
    let n = 0;
    const correct = (id: string, auth: Record<string, string>, body: object = { credits: 1 }) =>
      t.http
        .post(`/api/usage/records/${id}/corrections`)
        .set(auth)
        .send({ correctionId: `edge-${++n}`, reason: 'test', ...body });

    // The record's user and its org's member see it and may not correct it; others may not see it.
    expect(answer(await correct(own, holder.auth))).toEqual(forbidden);
    expect(answer(await correct(own, stranger.auth))).toEqual(notFound('User'));
    expect(answer(await correct(ofOrg, member.auth))).toEqual(forbidden);
    expect(answer(await correct(ofOrg, stranger.auth))).toEqual(notFound('Org'));
    // Bad input first, whoever asks; then the record; then the rule on its account.
    const twoWays = await correct(own, stranger.auth, { credits: 1, tokens: 5 });
    expect([twoWays.status, twoWays.body.code]).toEqual([400, 'VALIDATION']);
    const unknown = '0193a8f0-1b2c-7d3e-8f4a-5b6c7d8e9f01';
    expect(answer(await correct(unknown, stranger.auth))).toEqual(notFound('Usage record'));
    expect(answer(await correct('not-a-uuid', admin))).toEqual(notFound('Usage record'));
    // An erased person's record is a write to their account: 409 after the rule, 404 to whoever may not see it.
    const erasedAnswer = await correct(goneRecord, admin);
    expect([erasedAnswer.status, erasedAnswer.body.code]).toEqual([409, 'ACCOUNT_ERASED']);
    expect(answer(await correct(goneRecord, stranger.auth))).toEqual(notFound('User'));

    const purchase = { credits: 100, amount: '1.00', currency: 'usd', provider: 'edge', expiryDays: 30 };
    const bought = await post('/api/purchases', { ...purchase, userId: holder.id, providerRef: uniqueId('p') });
    expect(bought.status).toBe(201);
    const read = (id: string, auth: Record<string, string>, tail = '') =>
      t.http.get(`/api/purchases/${id}${tail}`).set(auth);
    expect((await read(bought.body.id, holder.auth)).status).toBe(200);
    expect((await read(bought.body.id, holder.auth, '/refundable')).status).toBe(200);
    for (const [id, auth] of [
      [bought.body.id, stranger.auth],
      [unknown, holder.auth],
      ['not-a-uuid', admin],
    ] as const) {
      expect(answer(await read(id, auth))).toEqual(notFound('Purchase'));
      expect(answer(await read(id, auth, '/refundable'))).toEqual(notFound('Purchase'));
    }
  });
});
