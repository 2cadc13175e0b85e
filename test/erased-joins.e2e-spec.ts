import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';

/**
 * An erased account joins nothing and is given nothing (docs/erasure.md "After an erasure"): made a
 * member of an org (whatever the role) or an org's owner, given an account price, or consuming a
 * metered feature → 409 ACCOUNT_ERASED, as every write naming it, and nothing is written. On a
 * database of its own, as every spec that erases.
 */
const tag = randomUUID().slice(0, 8);
const admin = bearer(token({ sub: uniqueId('jadmin'), role: 'admin' }));
const featureKey = `joins-${tag}`;
const model = `joins-model-${tag}`;

describe('an erased account joins nothing', () => {
  let own: OwnDatabase;
  let t: TestApp;
  const erased = uniqueId('gone');
  const owner = uniqueId('owner');
  const orgId = `org-joins-${tag}`;

  beforeAll(async () => {
    own = await ownDatabase('erased_joins');
    t = await startTestApp({ DATABASE_URL: own.url, JOBS_ENABLED: 'false' });
    await t.http.get('/api/users/me').set(admin).expect(200);
    for (const id of [erased, owner])
      await t.http
        .get('/api/users/me')
        .set(bearer(token({ sub: id })))
        .expect(200);
    await t.http.post('/api/orgs').set(admin).send({ orgId, name: 'Joins', ownerUserId: owner }).expect(201);
    await t.http.post('/api/features').set(admin).send({ featureKey, name: 'Metered', type: 'metered' }).expect(201);
    await t.http.post('/api/pricing').set(admin).send({ modelId: model, pricePer1kTokens: '1' }).expect(201);
    await t.http
      .put(`/api/entitlements/${featureKey}`)
      .set(admin)
      .send({ userId: erased, grant: { limit: 10, period: 'day' } })
      .expect(200);
    await t.http.post(`/api/users/${erased}/erasure`).set(admin).send({ reason: 'Asked' }).expect(200);
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await own?.drop();
  });

  const refused = (what: string, res: { status: number; body: { code?: string } }) => {
    expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(409);
    expect(res.body.code, what).toBe('ACCOUNT_ERASED');
  };

  it('joining an org, as a member or an admin, or owning a new one → 409, and no membership is written', async () => {
    for (const role of ['member', 'admin', 'owner'])
      refused(role, await t.http.put(`/api/orgs/${orgId}/members/${erased}`).set(admin).send({ role }));
    refused(
      'new org',
      await t.http
        .post('/api/orgs')
        .set(admin)
        .send({ orgId: `${orgId}-2`, name: 'Theirs', ownerUserId: erased }),
    );
    const { rows } = await own.db.query(
      `SELECT (SELECT count(*) FROM org_members WHERE user_id = $1)::int AS members,
              (SELECT count(*) FROM orgs WHERE org_id = $2)::int AS orgs`,
      [erased, `${orgId}-2`],
    );
    expect(rows[0]).toEqual({ members: 0, orgs: 0 });
  });

  it('an account price for them → 409, and none is written', async () => {
    refused(
      'account price',
      await t.http
        .post('/api/pricing/accounts')
        .set(admin)
        .send({ userId: erased, modelId: model, discountPercent: 10, effectiveFrom: new Date().toISOString() }),
    );
    const { rows } = await own.db.query(`SELECT count(*)::int AS n FROM account_prices WHERE user_id = $1`, [erased]);
    expect(rows[0].n).toBe(0);
  });

  it('consuming a metered feature for them → 409 and nothing used; a check without consume still answers', async () => {
    refused(
      'consume',
      await t.http.post('/api/entitlements/check').set(admin).send({ userId: erased, featureKey, consume: 1 }),
    );
    const read = await t.http.post('/api/entitlements/check').set(admin).send({ userId: erased, featureKey });
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect(read.body).toMatchObject({ allowed: true, used: 0 });
  });
});
