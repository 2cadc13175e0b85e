import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type Principal, principal } from './support/fixtures.js';

/**
 * Organisations and their members over HTTP (docs/orgs.md): creating and reading orgs,
 * the member routes' role rules (org managers, readers, ORG_ROLE_FORBIDDEN, LAST_OWNER), removal and
 * re-adding, and bad input that changes nothing.
 */
describe('organisations', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const sup = principal('supervisor', 'orgs-sup');
  const admin = principal('admin', 'orgs-admin');

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'orgs', granter: admin.jwt });
    await t.http.get('/api/users/me').set(sup.auth).expect(200);
  });
  afterAll(async () => {
    await t.close();
  });

  const newOrgId = () => uniqueId('o').toLowerCase();

  async function createOrg(owner: Principal, orgId = newOrgId()) {
    const res = await t.http.post('/api/orgs').set(sup.auth).send({ orgId, name: 'Acme Inc.', ownerUserId: owner.id });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return orgId;
  }

  const putMember = (by: Principal, orgId: string, userId: string, body: Record<string, unknown>) =>
    t.http.put(`/api/orgs/${orgId}/members/${userId}`).set(by.auth).send(body);

  async function memberRows(orgId: string) {
    const { rows } = await t.db.query(
      `SELECT m.user_id, m.role, c.credit_limit::int AS spend_limit, c.period AS spend_limit_period,
              m.removed_at IS NOT NULL AS removed
         FROM org_members m
         LEFT JOIN credit_caps c ON c.subject_kind = 'member' AND c.subject_id = m.user_id
                                AND c.account_id = (SELECT account_id FROM accounts WHERE org_id = m.org_id)
        WHERE m.org_id = $1 ORDER BY m.user_id`,
      [orgId],
    );
    return rows;
  }

  it('creates an org with its owner, an account of kind org, and answers the org view', async () => {
    const owner = await f.newUser();
    const orgId = newOrgId();
    const res = await t.http
      .post('/api/orgs')
      .set(sup.auth)
      .send({ orgId, name: 'Acme Inc.', ownerUserId: owner.id })
      .expect(201);
    expect(res.body).toEqual({
      orgId,
      name: 'Acme Inc.',
      createdAt: expect.any(String),
      memberCount: 1,
      totalCredits: 0,
      heldCredits: 0,
      debt: 0,
      models: null,
      billingCurrency: null,
    });
    const { rows } = await t.db.query(`SELECT kind FROM accounts WHERE org_id = $1`, [orgId]);
    expect(rows).toEqual([{ kind: 'org' }]);
    expect(await memberRows(orgId)).toEqual([
      { user_id: owner.id, role: 'owner', spend_limit: null, spend_limit_period: null, removed: false },
    ]);
    // The owner reads it, and finds it among their orgs; an outsider gets 404 as for an unknown org.
    expect((await t.http.get(`/api/orgs/${orgId}`).set(owner.auth).expect(200)).body.orgId).toBe(orgId);
    expect((await t.http.get('/api/orgs/mine').set(owner.auth).expect(200)).body).toEqual({
      items: [{ orgId, name: 'Acme Inc.', role: 'owner' }],
    });
    const outsider = await f.newUser();
    const hidden = await t.http.get(`/api/orgs/${orgId}`).set(outsider.auth).expect(404);
    expect(hidden.body).toMatchObject({ code: 'NOT_FOUND', message: 'Org not found' });
    await t.http.get(`/api/orgs/${newOrgId()}`).set(sup.auth).expect(404);
    const audit = await t.db.query(
      `SELECT target_type, target_id, actor_user_id FROM audit_log WHERE action = 'org.create' AND target_id = $1`,
      [orgId],
    );
    expect(audit.rows).toEqual([{ target_type: 'org', target_id: orgId, actor_user_id: sup.id }]);
  });

  it('generates an id when none is given; refuses a taken id (409 ORG_EXISTS), an unknown owner (404) and bad ids', async () => {
    const owner = await f.newUser();
    const generated = await t.http.post('/api/orgs').set(sup.auth).send({ name: 'Gen', ownerUserId: owner.id });
    expect(generated.status).toBe(201);
    expect(generated.body.orgId).toMatch(/^org-[0-9a-f]{12}$/);
    const orgId = await createOrg(owner);
    const taken = await t.http.post('/api/orgs').set(sup.auth).send({ orgId, name: 'Again', ownerUserId: owner.id });
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({ code: 'ORG_EXISTS' });
    const fresh = newOrgId();
    const unknown = await t.http
      .post('/api/orgs')
      .set(sup.auth)
      .send({ orgId: fresh, name: 'X', ownerUserId: 'nobody-x' });
    expect(unknown.status).toBe(404);
    for (const bad of ['ab', '-abc', 'Upper', 'a'.repeat(51), 'has space', 'é-org']) {
      const res = await t.http.post('/api/orgs').set(sup.auth).send({ orgId: bad, name: 'X', ownerUserId: owner.id });
      expect(res.status, bad).toBe(400);
    }
    for (const body of [
      { orgId: fresh, ownerUserId: owner.id },
      { orgId: fresh, name: '', ownerUserId: owner.id },
      { orgId: fresh, name: 'x'.repeat(101), ownerUserId: owner.id },
      { orgId: fresh, name: 'X', ownerUserId: owner.id, extra: 1 },
    ]) {
      expect((await t.http.post('/api/orgs').set(sup.auth).send(body)).status).toBe(400);
    }
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM orgs WHERE org_id = $1`, [fresh]);
    expect(rows[0].n).toBe(0);
    // Only staff create orgs.
    expect((await t.http.post('/api/orgs').set(owner.auth).send({ name: 'Mine', ownerUserId: owner.id })).status).toBe(
      403,
    );
  });

  it('lists orgs for staff with search and cursor paging', async () => {
    const owner = await f.newUser();
    const tag = uniqueId('srch').toLowerCase();
    const ids = [`${tag}-a`, `${tag}-b`, `${tag}-c`];
    for (const id of ids) await createOrg(owner, id);
    const first = await t.http.get('/api/orgs').query({ search: tag, limit: 2 }).set(sup.auth).expect(200);
    expect(first.body.items.map((o: { orgId: string }) => o.orgId)).toEqual(ids.slice(0, 2));
    expect(first.body.items[0]).toMatchObject({ memberCount: 1, totalCredits: 0 });
    const second = await t.http
      .get('/api/orgs')
      .query({ search: tag, limit: 2, cursor: first.body.nextCursor })
      .set(sup.auth)
      .expect(200);
    expect(second.body).toEqual({ items: [expect.objectContaining({ orgId: ids[2] })], nextCursor: null });
    expect((await t.http.get('/api/orgs').query({ cursor: 'bad' }).set(sup.auth)).status).toBe(400);
    expect((await t.http.get('/api/orgs').set(owner.auth)).status).toBe(403);
  });

  it('managers add, change and remove members; readers read; plain members read only themselves', async () => {
    const owner = await f.newUser();
    const orgId = await createOrg(owner);
    const [adminM, billing, member, other] = [
      await f.newUser(),
      await f.newUser(),
      await f.newUser(),
      await f.newUser(),
    ];
    expect((await putMember(owner, orgId, adminM.id, { role: 'admin' })).status).toBe(200);
    const added = await putMember(adminM, orgId, billing.id, { role: 'billing' });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    const withLimit = await putMember(adminM, orgId, member.id, {
      role: 'member',
      spendLimit: { credits: 300, period: 'week' },
    });
    expect(withLimit.body).toMatchObject({
      orgId,
      userId: member.id,
      role: 'member',
      removedAt: null,
      spendLimit: { credits: 300, period: 'week' },
      spentInPeriod: 0,
      availableCredits: 0,
      binding: 'pool',
    });
    // Billing reads the members; a plain member does not (403), but reads their own view.
    const list = await t.http.get(`/api/orgs/${orgId}/members`).set(billing.auth).expect(200);
    expect(list.body.items.map((m: { userId: string }) => m.userId).sort()).toEqual(
      [owner.id, adminM.id, billing.id, member.id].sort(),
    );
    expect((await t.http.get(`/api/orgs/${orgId}/members`).set(member.auth)).status).toBe(403);
    expect((await t.http.get(`/api/orgs/${orgId}/members/${owner.id}`).set(member.auth)).status).toBe(403);
    expect((await t.http.get(`/api/orgs/${orgId}/members/${member.id}`).set(member.auth)).status).toBe(200);
    expect((await t.http.get(`/api/orgs/${orgId}`).set(member.auth)).status).toBe(200);
    // Billing and plain members manage nobody; outsiders see no org.
    expect((await putMember(billing, orgId, other.id, { role: 'member' })).status).toBe(403);
    expect((await putMember(member, orgId, other.id, { role: 'member' })).status).toBe(403);
    expect((await putMember(other, orgId, other.id, { role: 'owner' })).status).toBe(404);
    expect((await t.http.get(`/api/orgs/${orgId}/members`).set(other.auth)).status).toBe(404);
    // Omitting spendLimit keeps it; null clears it.
    const kept = await putMember(owner, orgId, member.id, { role: 'billing' });
    expect(kept.body).toMatchObject({ role: 'billing', spendLimit: { credits: 300, period: 'week' } });
    const cleared = await putMember(owner, orgId, member.id, { role: 'member', spendLimit: null });
    expect(cleared.body).toMatchObject({ spendLimit: null, spentInPeriod: null, periodResetsAt: null });
    // Paging by user id.
    const page = await t.http.get(`/api/orgs/${orgId}/members`).query({ limit: 3 }).set(sup.auth).expect(200);
    expect(page.body.items).toHaveLength(3);
    const rest = await t.http
      .get(`/api/orgs/${orgId}/members`)
      .query({ limit: 3, cursor: page.body.nextCursor })
      .set(sup.auth)
      .expect(200);
    expect(rest.body.items).toHaveLength(1);
    expect(rest.body.nextCursor).toBeNull();
    // Audit entries for a member change by an org owner (an ordinary user) too.
    const audit = await t.db.query(
      `SELECT actor_user_id, target_type FROM audit_log WHERE action = 'org.member.set' AND target_id = $1`,
      [orgId],
    );
    expect(audit.rows.length).toBe(5);
    expect(audit.rows.every((r) => r.target_type === 'org')).toBe(true);
  });

  it('an org admin may neither make nor change an owner (403 ORG_ROLE_FORBIDDEN); owners and staff may', async () => {
    const owner = await f.newUser();
    const orgId = await createOrg(owner);
    const adminM = await f.newUser();
    const u = await f.newUser();
    await putMember(owner, orgId, adminM.id, { role: 'admin' }).expect(200);
    const make = await putMember(adminM, orgId, u.id, { role: 'owner' });
    expect(make.status).toBe(403);
    expect(make.body).toMatchObject({ code: 'ORG_ROLE_FORBIDDEN' });
    const change = await putMember(adminM, orgId, owner.id, { role: 'member' });
    expect(change.body).toMatchObject({ code: 'ORG_ROLE_FORBIDDEN' });
    const remove = await t.http.delete(`/api/orgs/${orgId}/members/${owner.id}`).set(adminM.auth);
    expect(remove.body).toMatchObject({ code: 'ORG_ROLE_FORBIDDEN' });
    const self = await putMember(adminM, orgId, adminM.id, { role: 'owner' });
    expect(self.body).toMatchObject({ code: 'ORG_ROLE_FORBIDDEN' });
    expect(await memberRows(orgId)).toEqual(
      [
        { user_id: owner.id, role: 'owner', spend_limit: null, spend_limit_period: null, removed: false },
        { user_id: adminM.id, role: 'admin', spend_limit: null, spend_limit_period: null, removed: false },
      ].sort((a, b) => (a.user_id < b.user_id ? -1 : 1)),
    );
    expect((await putMember(owner, orgId, u.id, { role: 'owner' })).status).toBe(200);
    expect((await putMember(sup, orgId, adminM.id, { role: 'owner' })).status).toBe(200);
  });

  it('the last owner stays: demoting or removing them → 409 LAST_OWNER; with a second owner it works', async () => {
    const owner = await f.newUser();
    const orgId = await createOrg(owner);
    const demote = await putMember(owner, orgId, owner.id, { role: 'admin' });
    expect(demote.status).toBe(409);
    expect(demote.body).toMatchObject({ code: 'LAST_OWNER' });
    const leave = await t.http.delete(`/api/orgs/${orgId}/members/${owner.id}`).set(owner.auth);
    expect(leave.body).toMatchObject({ statusCode: 409, code: 'LAST_OWNER' });
    expect((await t.http.delete(`/api/orgs/${orgId}/members/${owner.id}`).set(sup.auth)).status).toBe(409);
    const second = await f.newUser();
    await putMember(owner, orgId, second.id, { role: 'owner' }).expect(200);
    // Both owners demoting each other at once: the changes serialise on the org's row, so the one that
    // goes second finds its caller demoted already (no longer a manager: 403), and one owner stays.
    const [a, b] = await Promise.all([
      putMember(owner, orgId, second.id, { role: 'member' }),
      putMember(second, orgId, owner.id, { role: 'member' }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 403]);
    const { rows } = await t.db.query(
      `SELECT count(*)::int AS n FROM org_members WHERE org_id = $1 AND role = 'owner' AND removed_at IS NULL`,
      [orgId],
    );
    expect(rows[0].n).toBe(1);
  });

  it('removal: by managers, staff or the member leaving; removedAt set; re-adding works; bad sessions → 400', async () => {
    const owner = await f.newUser();
    const orgId = await createOrg(owner);
    const m1 = await f.newUser();
    const m2 = await f.newUser();
    await putMember(owner, orgId, m1.id, { role: 'member', spendLimit: { credits: 50, period: 'day' } }).expect(200);
    await putMember(owner, orgId, m2.id, { role: 'member' }).expect(200);
    // A plain member may not remove another; an unknown sessions value is a 400; neither changes anything.
    expect((await t.http.delete(`/api/orgs/${orgId}/members/${m2.id}`).set(m1.auth)).status).toBe(403);
    const bad = await t.http.delete(`/api/orgs/${orgId}/members/${m1.id}`).query({ sessions: 'kill' }).set(owner.auth);
    expect(bad.status).toBe(400);
    expect((await memberRows(orgId)).every((r) => !r.removed)).toBe(true);
    // The member leaves on their own (drain by default).
    const left = await t.http.delete(`/api/orgs/${orgId}/members/${m1.id}`).set(m1.auth).expect(200);
    expect(left.body).toMatchObject({
      userId: m1.id,
      removedAt: expect.any(String),
      releasedSessions: 0,
      availableCredits: 0,
      binding: 'member',
    });
    expect((await t.http.get('/api/orgs/mine').set(m1.auth).expect(200)).body.items).toEqual([]);
    expect((await t.http.get(`/api/orgs/${orgId}`).set(m1.auth)).status).toBe(404);
    // Removing again: no active member.
    expect((await t.http.delete(`/api/orgs/${orgId}/members/${m1.id}`).set(owner.auth)).status).toBe(404);
    // The owner removes m2 with release.
    const released = await t.http
      .delete(`/api/orgs/${orgId}/members/${m2.id}`)
      .query({ sessions: 'release' })
      .set(owner.auth)
      .expect(200);
    expect(released.body).toMatchObject({ removedAt: expect.any(String), releasedSessions: 0 });
    // Staff see removed members with includeRemoved; re-adding brings m1 back with their limit kept.
    const all = await t.http.get(`/api/orgs/${orgId}/members`).query({ includeRemoved: true }).set(sup.auth);
    expect(all.body.items).toHaveLength(3);
    const back = await putMember(owner, orgId, m1.id, { role: 'billing' }).expect(200);
    expect(back.body).toMatchObject({ role: 'billing', removedAt: null, spendLimit: { credits: 50, period: 'day' } });
    expect(new Date(back.body.joinedAt).getTime()).toBeGreaterThanOrEqual(new Date(left.body.joinedAt).getTime());
    const org = await t.http.get(`/api/orgs/${orgId}`).set(owner.auth).expect(200);
    expect(org.body.memberCount).toBe(2);
    const audit = await t.db.query(
      `SELECT actor_user_id FROM audit_log WHERE action = 'org.member.remove' AND target_id = $1 ORDER BY at`,
      [orgId],
    );
    expect(audit.rows.map((r) => r.actor_user_id)).toEqual([m1.id, owner.id]);
  });

  it('bad member input is a 400 that changes nothing; an unknown user is a 404', async () => {
    const owner = await f.newUser();
    const orgId = await createOrg(owner);
    const u = await f.newUser();
    for (const body of [
      {},
      { role: 'boss' },
      { role: 'member', spendLimit: { credits: -1, period: 'day' } },
      { role: 'member', spendLimit: { credits: 10, period: 'year' } },
      { role: 'member', spendLimit: { credits: 1.5, period: 'day' } },
      { role: 'member', spendLimit: { credits: 10 } },
      { role: 'member', spendLimit: 10 },
      { role: 'member', extra: true },
    ]) {
      const res = await putMember(owner, orgId, u.id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const unknown = await putMember(owner, orgId, 'nobody-at-all', { role: 'member' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toBe('User not found');
    expect((await putMember(owner, newOrgId(), u.id, { role: 'member' })).status).toBe(404);
    expect(await memberRows(orgId)).toHaveLength(1);
  });

  it('API keys: /mine with credits:read; the other org routes refuse keys', async () => {
    const owner = await f.newUser();
    const orgId = await createOrg(owner);
    const key = await f.apiKey(owner, { permissions: ['credits:read'] });
    const mine = await t.http.get('/api/orgs/mine').set('X-API-Key', key.key).expect(200);
    expect(mine.body.items).toEqual([{ orgId, name: 'Acme Inc.', role: 'owner' }]);
    expect((await t.http.get(`/api/orgs/${orgId}`).set('X-API-Key', key.key)).status).toBe(403);
    const noScope = await f.apiKey(owner, { permissions: ['usage:read'] });
    expect((await t.http.get('/api/orgs/mine').set('X-API-Key', noScope.key)).status).toBe(403);
  });

  it('hostile ids in the path are 4xx, never 5xx', async () => {
    const owner = await f.newUser();
    const orgId = await createOrg(owner);
    for (const id of ['a%00b', '%E0%A4%A', 'x'.repeat(300), '%F0%9F%98%80', '..%2F..']) {
      for (const res of [
        await t.http.get(`/api/orgs/${id}`).set(sup.auth),
        await t.http.get(`/api/orgs/${id}/balance`).set(sup.auth),
        await t.http.get(`/api/orgs/${orgId}/members/${id}`).set(sup.auth),
        await putMember(sup, orgId, id, { role: 'member' }),
        await t.http.delete(`/api/orgs/${orgId}/members/${id}`).set(owner.auth),
      ]) {
        expect(res.status, `${id}: ${JSON.stringify(res.body)}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${id}: ${JSON.stringify(res.body)}`).toBeLessThan(500);
      }
    }
    expect(await memberRows(orgId)).toHaveLength(1);
  });
});
