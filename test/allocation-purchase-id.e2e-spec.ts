import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, principal } from './support/fixtures.js';

/**
 * Allocation views carry `purchaseId` (docs/purchases.md): the purchase that granted the allocation,
 * null for every other source, wherever allocations are shown: the user's own lists, an org's, staff's.
 */
describe('allocation views carry purchaseId', () => {
  let t: TestApp;
  let f: Fixtures;
  const admin = principal('admin', 'apid-admin');
  const sup = principal('supervisor', 'apid-sup');

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { prefix: 'apid', granter: admin.jwt });
    for (const p of [admin, sup]) await t.http.get('/api/users/me').set(p.auth).expect(200);
  });
  afterAll(() => t.close());

  async function paid(account: { userId: string } | { orgId: string }, credits: number): Promise<string> {
    const created = await t.http
      .post('/api/purchases')
      .set(admin.auth)
      .send({ ...account, credits, amount: '5.00', currency: 'usd', provider: 'manual' })
      .expect(201);
    await t.http.post(`/api/purchases/${created.body.id}/paid`).set(admin.auth).send({}).expect(200);
    return created.body.id as string;
  }

  it('shows the purchase on the user’s allocations and balance, to the user and to staff; null otherwise', async () => {
    const u = await f.newUser({ credits: 100 });
    const purchaseId = await paid({ userId: u.id }, 700);

    const own = await t.http.get('/api/credits/allocations').set(u.auth).expect(200);
    const byStaff = await t.http.get(`/api/credits/allocations?userId=${u.id}`).set(sup.auth).expect(200);
    for (const list of [own.body.items, byStaff.body.items]) {
      expect(list.map((a: { source: string; purchaseId: string | null }) => [a.source, a.purchaseId])).toEqual(
        expect.arrayContaining([
          ['purchase', purchaseId],
          ['manual', null],
        ]),
      );
      expect(list).toHaveLength(2);
    }
    const balance = await t.http.get('/api/credits/balance').set(u.auth).expect(200);
    const staffBalance = await t.http.get(`/api/credits/balance/${u.id}`).set(sup.auth).expect(200);
    for (const b of [balance.body, staffBalance.body]) {
      const byCredits = Object.fromEntries(
        b.activeAllocations.map((a: { credits: number; purchaseId: string | null }) => [a.credits, a.purchaseId]),
      );
      expect(byCredits).toEqual({ 100: null, 700: purchaseId });
    }
  });

  it('shows the purchase on an org’s allocations and balance', async () => {
    const owner = await f.newUser();
    const orgId = uniqueId('apid').toLowerCase();
    await t.http.post('/api/orgs').set(sup.auth).send({ orgId, name: 'Bought', ownerUserId: owner.id }).expect(201);
    const purchaseId = await paid({ orgId }, 300);

    const list = await t.http.get(`/api/orgs/${orgId}/allocations`).set(owner.auth).expect(200);
    expect(list.body.items).toEqual([expect.objectContaining({ orgId, source: 'purchase', purchaseId })]);
    const balance = await t.http.get(`/api/orgs/${orgId}/balance`).set(sup.auth).expect(200);
    expect(balance.body.activeAllocations).toEqual([expect.objectContaining({ credits: 300, purchaseId })]);
  });

  it('answers purchaseId null on a manual grant and its void', async () => {
    const u = await f.newUser();
    const granted = await t.http.post('/api/credits/allocate').set(admin.auth).send({ userId: u.id, credits: 5 });
    expect(granted.status, JSON.stringify(granted.body)).toBe(201);
    expect(granted.body).toMatchObject({ source: 'manual', purchaseId: null });
    const voided = await t.http
      .post(`/api/credits/allocations/${granted.body.id}/void`)
      .set(admin.auth)
      .send({})
      .expect(200);
    expect(voided.body).toMatchObject({ purchaseId: null, voidedBy: admin.id });
  });
});
