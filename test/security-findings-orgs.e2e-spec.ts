import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, principal, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';
import { expectOrgInvariants } from './support/org-invariants.js';

// The security review's findings about organisations (docs/orgs.md): a supervisor funded an org, then
// made themself its owner and spent the pool through an org key; an org admin lifted their own spend
// limit; zero-estimate sessions passed a member limit; a removed member's drained session settled
// uncapped and their org keys revived when they were added again; an unknown org answered otherwise
// than one the caller is not a member of.

describe('security findings: organisations', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const orgs: string[] = [];
  const admin = bearer(tokenFor('admin', 'sfg-admin'));
  // One credit per token.
  const MODEL = uniqueId('sfg-model');

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'sfg' });
    await t.http.post('/api/pricing').set(admin).send({ modelId: MODEL, pricePer1kTokens: '1000' }).expect(201);
  });
  afterAll(() => t?.close());

  /** An org owned by `owner`, with `credits` in its pool. */
  async function newOrg(owner: FixtureUser, credits = 1000): Promise<string> {
    const orgId = uniqueId('sfg').toLowerCase();
    orgs.push(orgId);
    await t.http.post('/api/orgs').set(admin).send({ orgId, name: 'Findings Ltd', ownerUserId: owner.id }).expect(201);
    if (credits > 0) await t.http.post('/api/credits/allocate').set(admin).send({ orgId, credits }).expect(201);
    return orgId;
  }
  const setMember = (caller: { auth: Record<string, string> }, orgId: string, userId: string, body: object) =>
    t.http.put(`/api/orgs/${orgId}/members/${userId}`).set(caller.auth).send(body);
  const member = async (orgId: string, userId: string) =>
    (await t.http.get(`/api/orgs/${orgId}/members/${userId}`).set(admin).expect(200)).body;
  const pool = async (orgId: string) =>
    Number(
      (await t.db.query(`SELECT credit_available((SELECT account_id FROM accounts WHERE org_id = $1)) AS n`, [orgId]))
        .rows[0].n,
    );
  const initialize = (who: FixtureUser, orgId: string, estimate: number, sessionId = uniqueId('s')) =>
    t.http
      .post('/api/streaming-sessions/initialize')
      .set(who.auth)
      .send({ modelId: MODEL, estimatedTokens: estimate, sessionId, orgId });

  describe('finding: separation of duties by order', () => {
    it('a supervisor may not add themself to an org, nor create one they own (403 SELF_GRANT_FORBIDDEN)', async () => {
      const sup = await f.newUser({ role: 'supervisor' });
      const owner = await f.newUser();
      const orgId = await newOrg(owner, 0);
      // Not a member: the supervisor may fund the org…
      await t.http.post('/api/credits/allocate').set(sup.auth).send({ orgId, credits: 500 }).expect(201);
      // …but not join it afterwards, in any role.
      for (const role of ['owner', 'member']) {
        const joined = await setMember(sup, orgId, sup.id, { role });
        expect(joined.status).toBe(403);
        expect(joined.body.code).toBe('SELF_GRANT_FORBIDDEN');
      }
      const rows = await t.db.query(`SELECT 1 FROM org_members WHERE org_id = $1 AND user_id = $2`, [orgId, sup.id]);
      expect(rows.rows).toEqual([]);
      const own = await t.http
        .post('/api/orgs')
        .set(sup.auth)
        .send({ orgId: uniqueId('sfg-own').toLowerCase(), name: 'Mine', ownerUserId: sup.id });
      expect(own.status).toBe(403);
      expect(own.body.code).toBe('SELF_GRANT_FORBIDDEN');
      // Admins may; a supervisor may add someone else.
      await setMember(sup, orgId, (await f.newUser()).id, { role: 'member' }).expect(200);
      const adminUser = principal('admin', 'sfg-adm');
      await t.http.get('/api/users/me').set(adminUser.auth).expect(200);
      await setMember(adminUser, orgId, adminUser.id, { role: 'member' }).expect(200);
    });

    it('once a member (made so by its owner), the supervisor may no longer grant, transfer or change the plan', async () => {
      const sup = await f.newUser({ role: 'supervisor' });
      const owner = await f.newUser();
      const orgId = await newOrg(owner, 100);
      await setMember(owner, orgId, sup.id, { role: 'member' }).expect(200);
      const grant = await t.http.post('/api/credits/allocate').set(sup.auth).send({ orgId, credits: 5 });
      expect(grant.body.code).toBe('SELF_GRANT_FORBIDDEN');
      const transfer = await t.http
        .post('/api/credits/transfers')
        .set(sup.auth)
        .send({ from: { userId: owner.id }, to: { orgId }, credits: 1 });
      expect(transfer.body.code).toBe('SELF_GRANT_FORBIDDEN');
      // Removed again, they may.
      await t.http.delete(`/api/orgs/${orgId}/members/${sup.id}`).set(owner.auth).expect(200);
      await t.http.post('/api/credits/allocate').set(sup.auth).send({ orgId, credits: 5 }).expect(201);
      expect(await pool(orgId)).toBe(105);
    });
  });

  describe('finding: org admin lifting their own spend limit', () => {
    it('nobody changes their own limit; only owners and staff change an admin’s', async () => {
      const owner = await f.newUser();
      const orgAdmin = await f.newUser();
      const other = await f.newUser();
      const orgId = await newOrg(owner);
      const limited = { credits: 10, period: 'day' };
      await setMember(owner, orgId, orgAdmin.id, { role: 'admin', spendLimit: limited }).expect(200);
      await setMember(owner, orgId, other.id, { role: 'admin', spendLimit: limited }).expect(200);

      const own = await setMember(orgAdmin, orgId, orgAdmin.id, { role: 'admin', spendLimit: null });
      expect(own.status).toBe(403);
      expect(own.body.code).toBe('SELF_GRANT_FORBIDDEN');
      const lifted = await setMember(orgAdmin, orgId, other.id, {
        role: 'admin',
        spendLimit: { credits: 1_000_000, period: 'day' },
      });
      expect(lifted.status).toBe(403);
      expect(lifted.body.code).toBe('ORG_ROLE_FORBIDDEN');
      expect((await member(orgId, orgAdmin.id)).spendLimit).toEqual(limited);
      expect((await member(orgId, other.id)).spendLimit).toEqual(limited);
      // Omitting the limit (or sending it unchanged) is no change.
      await setMember(orgAdmin, orgId, orgAdmin.id, { role: 'admin' }).expect(200);
      await setMember(orgAdmin, orgId, orgAdmin.id, { role: 'admin', spendLimit: limited }).expect(200);
      // The owner may change an admin's; not their own.
      await setMember(owner, orgId, orgAdmin.id, { role: 'admin', spendLimit: null }).expect(200);
      const ownerOwn = await setMember(owner, orgId, owner.id, { role: 'owner', spendLimit: limited });
      expect(ownerOwn.body.code).toBe('SELF_GRANT_FORBIDDEN');
    });
  });

  describe('finding: zero-estimate sessions pass a member limit', () => {
    it('every open session counts at least one credit: 3 parallel zero sessions against a limit of 2 open 2', async () => {
      const owner = await f.newUser();
      const m = await f.newUser();
      const orgId = await newOrg(owner);
      await setMember(owner, orgId, m.id, { role: 'member', spendLimit: { credits: 2, period: 'day' } }).expect(200);
      const opened = await Promise.all([0, 1, 2].map(() => initialize(m, orgId, 0)));
      expect(opened.map((r) => r.status).sort()).toEqual([201, 201, 402]);
      const refused = opened.find((r) => r.status === 402)!;
      expect(refused.body.code).toBe('MEMBER_LIMIT_EXCEEDED');
      expect((await member(orgId, m.id)).spentInPeriod).toBe(2);
      // Settled at 0, each gives its credit back.
      for (const r of opened.filter((x) => x.status === 201)) {
        await t.http
          .post('/api/streaming-sessions/finalize')
          .set(m.auth)
          .send({ sessionId: r.body.sessionId, actualTokens: 0 })
          .expect(200);
      }
      expect((await member(orgId, m.id)).spentInPeriod).toBe(0);
      await expectInvariants(t, [m.id]);
      await expectOrgInvariants(t, [orgId]);
    });
  });

  describe('finding: removed member’s drain settlement uncapped', () => {
    it('the org pays at most the hold; what the session used beyond it is a shortfall for review', async () => {
      const owner = await f.newUser();
      const m = await f.newUser();
      const orgId = await newOrg(owner);
      await setMember(owner, orgId, m.id, { role: 'member' }).expect(200);
      const s = await initialize(m, orgId, 50).expect(201); // holds 60
      await t.http.delete(`/api/orgs/${orgId}/members/${m.id}?sessions=drain`).set(owner.auth).expect(200);
      await t.http
        .post('/api/streaming-sessions/finalize')
        .set(m.auth)
        .send({ sessionId: s.body.sessionId, actualTokens: 900 })
        .expect(200);
      const record = await t.db.query(
        `SELECT credits, shortfall, billing_status FROM usage_records WHERE metadata->>'sessionId' = $1`,
        [s.body.sessionId],
      );
      expect(record.rows).toEqual([{ credits: 60, shortfall: 840, billing_status: 'needs_review' }]);
      expect(await pool(orgId)).toBe(940);
      await expectInvariants(t, [m.id]);
      await expectOrgInvariants(t, [orgId]);
    });
  });

  describe('finding: org keys revive on re-add', () => {
    it('a removed member’s org keys are revoked at removal and stay so when they are added again', async () => {
      const owner = await f.newUser();
      const m = await f.newUser();
      const orgId = await newOrg(owner);
      await setMember(owner, orgId, m.id, { role: 'member' }).expect(200);
      const key = await f.apiKey(m, { orgId, permissions: ['credits:read'] });
      await t.http.get('/api/orgs/mine').set({ 'X-API-Key': key.key }).expect(200);
      await t.http.delete(`/api/orgs/${orgId}/members/${m.id}`).set(owner.auth).expect(200);
      await setMember(owner, orgId, m.id, { role: 'member' }).expect(200);
      await t.http.get('/api/orgs/mine').set({ 'X-API-Key': key.key }).expect(401);
      const view = await t.http.get(`/api/api-keys/${key.id}`).set(m.auth).expect(200);
      expect(view.body.revokedAt).not.toBeNull();
    });
  });

  describe('finding: NOT_A_MEMBER for an unknown org', () => {
    it('under users trust a write naming an org answers 403 NOT_A_MEMBER alike for a non-member and no org', async () => {
      const owner = await f.newUser();
      const outsider = await f.newUser({ credits: 100 });
      const real = await newOrg(owner);
      for (const orgId of [real, uniqueId('nosuch').toLowerCase()]) {
        const record = await t.http
          .post('/api/usage/record')
          .set(outsider.auth)
          .send({ service: 'chat', operation: 'c', credits: 1, orgId });
        expect([record.status, record.body.code], orgId).toEqual([403, 'NOT_A_MEMBER']);
        const session = await initialize(outsider, orgId, 10);
        expect([session.status, session.body.code], orgId).toEqual([403, 'NOT_A_MEMBER']);
        const batch = await t.http
          .post('/api/usage/records/batch')
          .set(outsider.auth)
          .send({ events: [{ eventId: uniqueId('ev'), service: 'chat', operation: 'c', credits: 1, orgId }] });
        expect(batch.body.results[0].error, orgId).toMatch(/^NOT_A_MEMBER/);
        const key = await t.http.post('/api/api-keys').set(outsider.auth).send({ name: 'k', orgId });
        expect([key.status, key.body.code], orgId).toEqual([403, 'NOT_A_MEMBER']);
      }
      expect(await f.available(outsider.id)).toBe(100);
    });
  });
});
