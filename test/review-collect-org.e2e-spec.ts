import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';
import { expectOrgInvariants } from './support/org-invariants.js';

const admin = bearer(tokenFor('admin', 'review-org-admin'));
const supervisor = bearer(tokenFor('supervisor', 'review-org-sup'));

/**
 * A reviewed shortfall is collected from the account that paid the record (docs/usage.md):
 * a member's session an organisation paid leaves 25 credits under review; collecting them takes them
 * from the organisation's account (its balance, then debt), the member named on the lines, and never
 * from the member's own account. The organisation's debt is then in the review queue.
 */
describe('review: collecting an organisation’s shortfall', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const model = uniqueId('review-org');

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'revo', granter: tokenFor('admin', 'review-org-admin') });
    await t.http.get('/api/users/me').set(supervisor).expect(200);
    await t.http
      .post('/api/pricing')
      .set(admin)
      .send({ modelId: model, pricePer1kTokens: '10', outputPricePer1kTokens: '30' })
      .expect(201);
  });
  afterAll(() => t?.close());

  it('takes the shortfall from the org, with the member as member; the member’s own credits stay', async () => {
    const member = await f.newUser({ credits: 100 });
    const orgId = uniqueId('revo').toLowerCase();
    await t.http.post('/api/orgs').set(supervisor).send({ orgId, name: 'Team', ownerUserId: member.id }).expect(201);
    await t.http.post('/api/credits/allocate').set(admin).send({ orgId, credits: 15 }).expect(201);
    const sessionId = uniqueId('s');
    await t.http
      .post('/api/streaming-sessions/initialize')
      .set(member.auth)
      .send({ orgId, sessionId, modelId: model, estimatedTokens: 1000 })
      .expect(201);
    const settled = await t.http
      .post('/api/streaming-sessions/finalize')
      .set(member.auth)
      .send({ sessionId, inputTokens: 1000, outputTokens: 1000 })
      .expect(200);
    expect(settled.body).toMatchObject({ actualCredits: 40, shortfall: 25 });
    const { rows } = await t.db.query(
      `SELECT id, org_id, shortfall FROM usage_records WHERE metadata->>'sessionId' = $1 AND user_id = $2`,
      [sessionId, member.id],
    );
    expect(rows).toEqual([expect.objectContaining({ org_id: orgId, shortfall: 25 })]);

    const resolved = await t.http
      .post(`/api/usage/records/${rows[0].id}/resolve`)
      .set(admin)
      .send({ action: 'collect' })
      .expect(200);
    expect(resolved.body).toMatchObject({ reviewStatus: 'resolved', resolution: 'collect', credits: 40 });

    expect((await t.http.get('/api/credits/balance').set(member.auth).expect(200)).body).toMatchObject({
      totalCredits: 100,
      debt: 0,
    });
    expect((await t.http.get(`/api/orgs/${orgId}/balance`).set(member.auth).expect(200)).body).toMatchObject({
      debt: 25,
    });
    // The org's debt shows in the review queue beside users' debts, named as events name an org.
    const queue = await t.http.get('/api/credits/review').set(admin).expect(200);
    expect(queue.body.debts).toContainEqual({ userId: null, orgId, debt: 25 });
    expect(queue.body.debts.filter((d: { userId: string | null }) => d.userId === member.id)).toEqual([]);
    const collected = await t.db.query(
      `SELECT account_org_id(account_id) AS org_id, member_id, kind, amount FROM credit_ledger
        WHERE usage_record_id = $1 AND kind IN ('debit', 'overdraft', 'debt') AND created_by = $2`,
      [rows[0].id, 'review-org-admin'],
    );
    expect(collected.rows).toEqual([{ org_id: orgId, member_id: member.id, kind: expect.any(String), amount: -25 }]);
    await expectInvariants(t, [member.id]);
    await expectOrgInvariants(t, [orgId]);
  });
});
