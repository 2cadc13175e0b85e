import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, principal } from './support/fixtures.js';

/**
 * A budget by its id through an organisation's API key (docs/budgets.md "Setting budgets"): the key
 * means its org's account, and a change of one of its budgets is for the org's owners, admins and
 * billing members, as when the org is named: a plain member's key reads it and is refused a change
 * (403, after a missing budget's 404).
 */
describe('budgets through an org key', () => {
  let t: TestApp;
  let f: Fixtures;
  const sup = principal('supervisor', 'bok-sup');

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { prefix: 'bok' });
  });
  afterAll(async () => {
    await t.close();
  });

  async function org(owner: FixtureUser, members: { id: string; role: string }[]): Promise<string> {
    const orgId = uniqueId('bok-org').toLowerCase();
    await t.http.post('/api/orgs').set(sup.auth).send({ orgId, name: 'Budgets', ownerUserId: owner.id }).expect(201);
    for (const m of members)
      await t.http.put(`/api/orgs/${orgId}/members/${m.id}`).set(owner.auth).send({ role: m.role }).expect(200);
    return orgId;
  }

  it('a member’s key reads the org’s budget and is refused a change; a billing member’s changes it', async () => {
    const owner = await f.newUser();
    const member = await f.newUser();
    const billing = await f.newUser();
    const orgId = await org(owner, [
      { id: member.id, role: 'member' },
      { id: billing.id, role: 'billing' },
    ]);
    const budgetId = uniqueId('bok').toLowerCase();
    await t.http
      .post('/api/budgets')
      .set(owner.auth)
      .send({ orgId, budgetId, scope: { kind: 'project', id: 'alpha' }, limitCredits: 100 })
      .expect(201);
    const keyOf = async (user: FixtureUser) => ({
      'X-API-Key': (await f.apiKey(user, { orgId, permissions: ['credits:read'] })).key,
    });
    const memberKey = await keyOf(member);
    const billingKey = await keyOf(billing);

    expect((await t.http.get(`/api/budgets/${budgetId}`).set(memberKey).expect(200)).body).toMatchObject({ orgId });
    for (const [method, send] of [
      ['patch', { limitCredits: 1 }],
      ['delete', undefined],
    ] as const) {
      const refused = await t.http[method](`/api/budgets/${budgetId}`).set(memberKey).send(send);
      expect(refused.status, method).toBe(403);
      expect(refused.body).toMatchObject({
        code: 'FORBIDDEN',
        message: "Only the organisation's owners, admins and billing members may set its budgets",
      });
      // A missing budget is 404 before the rule is answered.
      const missing = await t.http[method](`/api/budgets/${uniqueId('none').toLowerCase()}`)
        .set(memberKey)
        .send(send);
      expect(missing.status, method).toBe(404);
    }
    const changed = await t.http.patch(`/api/budgets/${budgetId}`).set(billingKey).send({ limitCredits: 150 });
    expect(changed.status).toBe(200);
    expect(changed.body.limitCredits).toBe(150);

    await t.http.delete(`/api/budgets/${budgetId}`).set(billingKey).expect(204);
  });
});
