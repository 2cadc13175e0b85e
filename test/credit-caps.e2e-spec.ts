import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, principal } from './support/fixtures.js';

/**
 * The limits live in the credits module's credit_caps (docs/spend-controls.md): a budget set through
 * the API key routes and a spend limit set through the member route land there, keyed as the spend
 * counter keys them; clearing one keeps its row with a null limit; neither route's answer changes.
 */
describe('caps set through the routes land in credit_caps', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const sup = principal('supervisor', 'caps-sup');
  const admin = principal('admin', 'caps-admin');

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'caps', granter: admin.jwt });
  });
  afterAll(async () => {
    await t.close();
  });

  const cap = async (kind: 'key' | 'member', subject: string, orgId: string | null = null) =>
    (
      await t.db.query(
        `SELECT credit_limit::int AS credit_limit, period, owner_id FROM credit_caps
          WHERE subject_kind = $1 AND subject_id = $2
            AND account_id = CASE WHEN $3::varchar IS NULL THEN 0 ELSE (SELECT account_id FROM accounts WHERE org_id = $3) END`,
        [kind, subject, orgId],
      )
    ).rows;

  it('an API key budget: created, changed and removed through the key routes', async () => {
    const u = await f.newUser();
    const created = await t.http
      .post('/api/api-keys')
      .set(u.auth)
      .send({ name: 'budgeted', creditLimit: 25, limitPeriod: 'week' })
      .expect(201);
    expect(created.body).toMatchObject({ creditLimit: 25, limitPeriod: 'week', spentInPeriod: 0 });
    expect(await cap('key', created.body.id)).toEqual([{ credit_limit: 25, period: 'week', owner_id: u.id }]);

    const changed = await t.http.patch(`/api/api-keys/${created.body.id}`).set(u.auth).send({ creditLimit: 40 });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body).toMatchObject({ creditLimit: 40, limitPeriod: 'week' });
    expect(await cap('key', created.body.id)).toEqual([{ credit_limit: 40, period: 'week', owner_id: u.id }]);

    await t.http.patch(`/api/api-keys/${created.body.id}`).set(u.auth).send({ creditLimit: null }).expect(200);
    expect(await cap('key', created.body.id)).toEqual([{ credit_limit: null, period: null, owner_id: u.id }]);

    const plain = await t.http.post('/api/api-keys').set(u.auth).send({ name: 'plain' }).expect(201);
    expect(plain.body).toMatchObject({ creditLimit: null, limitPeriod: null });
    expect(await cap('key', plain.body.id)).toEqual([]);
    // a rename alone writes no cap
    await t.http.patch(`/api/api-keys/${plain.body.id}`).set(u.auth).send({ name: 'renamed' }).expect(200);
    expect(await cap('key', plain.body.id)).toEqual([]);
  });

  it("a member's spend limit: set, changed and removed through the member route", async () => {
    const owner = await f.newUser();
    const member = await f.newUser();
    const orgId = uniqueId('caps-org').toLowerCase();
    await t.http.post('/api/orgs').set(sup.auth).send({ orgId, name: 'Caps', ownerUserId: owner.id }).expect(201);
    const put = (body: Record<string, unknown>) =>
      t.http.put(`/api/orgs/${orgId}/members/${member.id}`).set(sup.auth).send(body);

    const added = await put({ role: 'member', spendLimit: { credits: 300, period: 'month' } });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    expect(added.body).toMatchObject({ spendLimit: { credits: 300, period: 'month' }, spentInPeriod: 0 });
    expect(await cap('member', member.id, orgId)).toEqual([{ credit_limit: 300, period: 'month', owner_id: null }]);

    // a role change without spendLimit keeps the limit
    await put({ role: 'billing' }).expect(200);
    expect(await cap('member', member.id, orgId)).toEqual([{ credit_limit: 300, period: 'month', owner_id: null }]);

    await put({ role: 'member', spendLimit: { credits: 0, period: 'day' } }).expect(200);
    expect(await cap('member', member.id, orgId)).toEqual([{ credit_limit: 0, period: 'day', owner_id: null }]);

    const cleared = await put({ role: 'member', spendLimit: null }).expect(200);
    expect(cleared.body).toMatchObject({ spendLimit: null, spentInPeriod: null, periodResetsAt: null });
    expect(await cap('member', member.id, orgId)).toEqual([{ credit_limit: null, period: null, owner_id: null }]);
    // the owner, added with the org, has no cap
    expect(await cap('member', owner.id, orgId)).toEqual([]);
  });

  it("keeps each kind's rules: a key's budget is at least 1, a member's period is never total", async () => {
    await expect(
      t.db.query(`INSERT INTO credit_caps (subject_kind, subject_id, account_id, credit_limit, period, owner_id)
                  VALUES ('key', 'k-zero', 0, 0, 'day', 'someone')`),
    ).rejects.toThrow(/credit_caps_key_check/);
    await expect(
      t.db.query(`INSERT INTO credit_caps (subject_kind, subject_id, account_id, credit_limit, period)
                  VALUES ('member', 'm-total', 1, 5, 'total')`),
    ).rejects.toThrow(/credit_caps_member_check/);
    await expect(
      t.db.query(`INSERT INTO credit_caps (subject_kind, subject_id, account_id, credit_limit, period)
                  VALUES ('member', 'm-half', 1, 5, NULL)`),
    ).rejects.toThrow(/credit_caps_limit_pair_check/);
  });
});
