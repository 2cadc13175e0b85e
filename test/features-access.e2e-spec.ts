import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp } from './support/app.js';
import { featureKey, Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';

/**
 * Who may change and spend what a feature grants (docs/features.md): a supervisor sets no override
 * for their own account or an org they belong to, an org's allowance is consumed only by a principal
 * that may spend for the org, an eventId names one body, and an org's portal session reads its
 * org's entitlements without naming it.
 */
describe('features: self-grants, spending an org’s allowance, eventIds, portal sessions', () => {
  let t: TestApp;
  let f: Fixtures;
  const admin = bearer(tokenFor('admin', 'feat-acc-admin'));

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { prefix: 'facc' });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function feature(type: 'boolean' | 'metered'): Promise<string> {
    const key = featureKey(`fa.${type}`);
    const res = await t.http.post('/api/features').set(admin).send({ featureKey: key, name: key, type });
    expect(res.status).toBe(201);
    return key;
  }
  const check = (auth: Record<string, string>, body: Record<string, unknown>) =>
    t.http.post('/api/entitlements/check').set(auth).send(body);
  async function org(owner: FixtureUser, members: { id: string; role: string }[] = []): Promise<string> {
    const orgId = featureKey('faorg').replace(/[._]/g, '-').slice(0, 40);
    const res = await t.http.post('/api/orgs').set(admin).send({ orgId, name: orgId, ownerUserId: owner.id });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    for (const m of members)
      expect((await t.http.put(`/api/orgs/${orgId}/members/${m.id}`).set(admin).send({ role: m.role })).status).toBe(
        200,
      );
    return orgId;
  }
  const overrides = async (accountKey: 'user' | 'org', ownerId: string) =>
    (
      await t.db.query(
        `SELECT o.feature_key FROM feature_overrides o JOIN accounts a ON a.account_id = o.account_id
          WHERE a.kind = $1 AND COALESCE(a.user_id, a.org_id) = $2`,
        [accountKey, ownerId],
      )
    ).rows;

  it('a supervisor sets no override for their own account or an org they belong to; an admin may', async () => {
    const bool = await feature('boolean');
    const supervisor = await f.newUser({ role: 'supervisor' });
    const owner = await f.newUser();
    const other = await f.newUser();
    const orgId = await org(owner, [{ id: supervisor.id, role: 'member' }]);

    for (const target of [{ userId: supervisor.id }, { orgId }]) {
      const res = await t.http
        .put(`/api/entitlements/${bool}`)
        .set(supervisor.auth)
        .send({ ...target, grant: true });
      expect(res.status, JSON.stringify(target)).toBe(403);
      expect(res.body.code).toBe('SELF_GRANT_FORBIDDEN');
      // Removing one is refused too: an override of false may be what keeps them out.
      const removal = await t.http
        .put(`/api/entitlements/${bool}`)
        .set(supervisor.auth)
        .send({ ...target, grant: null });
      expect(removal.body.code).toBe('SELF_GRANT_FORBIDDEN');
    }
    expect(await overrides('user', supervisor.id)).toEqual([]);
    expect(await overrides('org', orgId)).toEqual([]);
    const audits = await t.db.query(
      `SELECT 1 FROM audit_log WHERE action = 'entitlement.set' AND target_id = ANY($1)`,
      [[supervisor.id, orgId]],
    );
    expect(audits.rowCount).toBe(0);

    // Another user's account is theirs to set; an admin sets the supervisor's and the org's.
    expect(
      (await t.http.put(`/api/entitlements/${bool}`).set(supervisor.auth).send({ userId: other.id, grant: true }))
        .status,
    ).toBe(200);
    for (const target of [{ userId: supervisor.id }, { orgId }])
      expect(
        (
          await t.http
            .put(`/api/entitlements/${bool}`)
            .set(admin)
            .send({ ...target, grant: true })
        ).body,
      ).toMatchObject({ grant: true, source: 'override' });
    // An admin's own account too.
    const ownAdmin = await f.newUser({ role: 'admin' });
    expect(
      (await t.http.put(`/api/entitlements/${bool}`).set(ownAdmin.auth).send({ userId: ownAdmin.id, grant: true }))
        .status,
    ).toBe(200);
  });

  it('an org’s allowance is consumed only with usage:write or a JWT; a read-only key still reads it', async () => {
    const metered = await feature('metered');
    const owner = await f.newUser();
    const member = await f.newUser();
    const orgId = await org(owner, [{ id: member.id, role: 'member' }]);
    expect(
      (
        await t.http
          .put(`/api/entitlements/${metered}`)
          .set(admin)
          .send({ orgId, grant: { limit: 10, period: 'month' } })
      ).status,
    ).toBe(200);
    const key = async (permissions: string[], ofOrg: boolean) => ({
      'X-API-Key': (await f.apiKey(member, { permissions, ...(ofOrg ? { orgId } : {}) })).key,
    });
    const readOnlyOrgKey = await key(['credits:read'], true);
    const readOnlyOwnKey = await key(['credits:read'], false);

    for (const [auth, body] of [
      [readOnlyOrgKey, { featureKey: metered, consume: 10 }],
      [readOnlyOrgKey, { orgId, featureKey: metered, consume: 10, eventId: 'ro-1' }],
      [readOnlyOwnKey, { orgId, featureKey: metered, consume: 10 }],
    ] as const) {
      const res = await check(auth, body);
      expect(res.status, JSON.stringify(body)).toBe(403);
      expect(res.body.message).toMatch(/usage:write/);
    }
    // Nothing was consumed, and the read-only keys still read the org's use.
    for (const auth of [readOnlyOrgKey, readOnlyOwnKey])
      expect((await check(auth, { orgId, featureKey: metered })).body).toMatchObject({
        allowed: true,
        used: 0,
        remaining: 10,
      });
    // The user's own account is still theirs to consume with the read-only key (no grant: refused).
    expect((await check(readOnlyOwnKey, { featureKey: metered, consume: 1 })).body).toMatchObject({
      allowed: false,
      reason: 'not_granted',
    });

    // A key that may meter, the member's JWT and a service key consume the org's allowance.
    const writer = await key(['credits:read', 'usage:write'], true);
    expect((await check(writer, { featureKey: metered, consume: 3 })).body).toMatchObject({ allowed: true, used: 3 });
    expect((await check(member.auth, { orgId, featureKey: metered, consume: 2 })).body).toMatchObject({
      allowed: true,
      used: 5,
    });
    const service = { 'X-API-Key': (await f.apiKey({ auth: admin }, { permissions: ['usage:ingest'] })).key };
    expect((await check(service, { orgId, featureKey: metered, consume: 1 })).body).toMatchObject({
      allowed: true,
      used: 6,
    });
  });

  it('an eventId repeated with another consume is 422 EVENT_ID_REUSED; the same body replays', async () => {
    const metered = await feature('metered');
    const user = await f.newUser();
    await t.http
      .put(`/api/entitlements/${metered}`)
      .set(admin)
      .send({ userId: user.id, grant: { limit: 2, period: 'lifetime' } })
      .expect(200);
    const consume = (n: number, eventId: string) =>
      check(admin, { userId: user.id, featureKey: metered, consume: n, eventId });
    expect((await consume(1, 'e-1')).body).toMatchObject({ allowed: true, used: 1 });
    expect((await consume(1, 'e-2')).body).toMatchObject({ allowed: true, used: 2 });
    // The limit is used up: e-1 with another amount must not answer e-1's allowed: true.
    const reused = await consume(5, 'e-1');
    expect(reused.status, JSON.stringify(reused.body)).toBe(422);
    expect(reused.body.code).toBe('EVENT_ID_REUSED');
    // A refused first answer is kept too, and named by its body.
    expect((await consume(3, 'e-3')).body).toMatchObject({ allowed: false, reason: 'limit_reached' });
    expect((await consume(1, 'e-3')).status).toBe(422);
    // The same body replays the first answer, and nothing more is counted.
    expect((await consume(1, 'e-1')).body).toMatchObject({ allowed: true, used: 1, remaining: 1 });
    expect((await consume(3, 'e-3')).body).toMatchObject({ allowed: false, reason: 'limit_reached' });
    expect((await check(admin, { userId: user.id, featureKey: metered })).body).toMatchObject({ used: 2 });
  });

  it('an org’s portal session reads its org’s entitlements without naming the org', async () => {
    const bool = await feature('boolean');
    const owner = await f.newUser();
    const orgId = await org(owner);
    await t.http.put(`/api/entitlements/${bool}`).set(admin).send({ orgId, grant: true }).expect(200);
    await t.http.put(`/api/entitlements/${bool}`).set(admin).send({ userId: owner.id, grant: false }).expect(200);
    const find = (items: { featureKey: string }[]) => items.find((x) => x.featureKey === bool);
    for (const scope of ['full', 'read']) {
      const minted = await t.http.post('/api/portal/sessions').set(admin).send({ userId: owner.id, orgId, scope });
      expect(minted.status, JSON.stringify(minted.body)).toBe(201);
      const session = bearer(minted.body.token);
      const unnamed = await t.http.get('/api/entitlements').query({ limit: 500 }).set(session);
      expect(unnamed.status, JSON.stringify(unnamed.body)).toBe(200);
      expect(find(unnamed.body.items)).toMatchObject({ grant: true, source: 'override' });
      const named = await t.http.get('/api/entitlements').query({ orgId, limit: 500 }).set(session);
      expect(find(named.body.items)).toMatchObject({ grant: true, source: 'override' });
      // The person's own account stays out of the org's session.
      expect((await t.http.get('/api/entitlements').query({ userId: owner.id }).set(session)).status).toBe(404);
    }
    // A user's session still reads the user's own without naming it.
    const minted = await t.http.post('/api/portal/sessions').set(admin).send({ userId: owner.id });
    const own = await t.http.get('/api/entitlements').query({ limit: 500 }).set(bearer(minted.body.token));
    expect(find(own.body.items)).toMatchObject({ grant: false, source: 'override' });
  });
});
