import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';
import { expectOrgInvariants } from './support/org-invariants.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const ADMIN = bearer(token({ sub: 'leaving-admin', role: 'admin' }));

/**
 * Leaving an organisation through its route (docs/orgs.md "Leaving"):
 * `DELETE /api/orgs/:orgId/members/:userId?sessions=release` aborts the member's open org sessions
 * at once (nothing charged, the holds back to the pool and off the member's counter, a later
 * finalize 409); `drain` (the default) lets them settle on the org. Either way the member meters
 * nothing more on the org.
 */
describe('a member leaving an organisation', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const orgs: string[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'lv' });
  });
  afterEach(async () => {
    await expectInvariants(t, users);
    await expectOrgInvariants(t, orgs);
  });
  afterAll(() => t.close());

  /** An org owned by `owner` with 100 credits in its pool and `member` limited to 50 a day. */
  async function newOrg(owner: FixtureUser, member: FixtureUser): Promise<string> {
    const orgId = uniqueId('lv').toLowerCase();
    orgs.push(orgId);
    await t.http.post('/api/orgs').set(ADMIN).send({ orgId, name: 'Leaving Ltd', ownerUserId: owner.id }).expect(201);
    await t.http
      .put(`/api/orgs/${orgId}/members/${member.id}`)
      .set(owner.auth)
      .send({ role: 'member', spendLimit: { credits: 50, period: 'day' } })
      .expect(200);
    await t.http.post('/api/credits/allocate').set(ADMIN).send({ orgId, credits: 100, expiryDays: 30 }).expect(201);
    return orgId;
  }
  const init = (who: FixtureUser, sessionId: string, orgId: string) =>
    t.http
      .post('/api/streaming-sessions/initialize')
      .set(who.auth)
      .send({ modelId: HAIKU, estimatedTokens: 20_000, sessionId, orgId })
      .expect(201);
  const orgView = async (orgId: string, who: FixtureUser) =>
    (await t.http.get(`/api/orgs/${orgId}/balance`).set(who.auth).expect(200)).body as {
      availableCredits?: number;
      heldCredits?: number;
    };

  it('release: open org sessions aborted, nothing charged, holds back; a later finalize is 409', async () => {
    const [owner, m] = [await f.newUser(), await f.newUser()];
    const orgId = await newOrg(owner, m);
    const first = (await init(m, `a-${m.id}`, orgId)).body.allocatedCredits as number;
    await init(m, `b-${m.id}`, orgId);
    expect(first).toBeGreaterThan(0);
    const held = await orgView(orgId, owner);
    const before = (await t.http.get(`/api/orgs/${orgId}/members/${m.id}`).set(owner.auth).expect(200)).body;
    expect(before.spentInPeriod).toBe(2 * first);

    const gone = await t.http.delete(`/api/orgs/${orgId}/members/${m.id}?sessions=release`).set(owner.auth).expect(200);
    expect(gone.body).toMatchObject({ userId: m.id, releasedSessions: 2, spentInPeriod: 0 });
    expect(gone.body.removedAt).not.toBeNull();

    const after = await orgView(orgId, owner);
    expect(JSON.stringify(after)).not.toBe(JSON.stringify(held));
    const pool = await t.db.query(
      `SELECT credit_available((SELECT account_id FROM accounts WHERE org_id = $1))::int AS n`,
      [orgId],
    );
    expect(pool.rows[0].n).toBe(100);
    const late = await t.http
      .post('/api/streaming-sessions/finalize')
      .set(m.auth)
      .send({ sessionId: `a-${m.id}`, actualTokens: 8000 })
      .expect(409);
    expect(late.body.code).toBe('ALREADY_SETTLED');
    // Removed: no more metering on the org.
    const refused = await t.http
      .post('/api/usage/record')
      .set(m.auth)
      .send({ service: 'chat', operation: 'completion', credits: 1, orgId })
      .expect(403);
    expect(refused.body.code).toBe('NOT_A_MEMBER');
    const audit = await t.db.query(
      `SELECT after->>'releasedSessions' AS released FROM audit_log WHERE action = 'org.member.remove' AND target_id = $1`,
      [orgId],
    );
    expect(audit.rows).toEqual([{ released: '2' }]);
  });

  it('drain (the default): open sessions settle normally on the org after the member left', async () => {
    const [owner, m] = [await f.newUser(), await f.newUser()];
    const orgId = await newOrg(owner, m);
    await init(m, `d-${m.id}`, orgId);
    // The member leaves on their own.
    const gone = await t.http.delete(`/api/orgs/${orgId}/members/${m.id}`).set(m.auth).expect(200);
    expect(gone.body).toMatchObject({ releasedSessions: 0 });
    const settled = await t.http
      .post('/api/streaming-sessions/finalize')
      .set(m.auth)
      .send({ sessionId: `d-${m.id}`, actualTokens: 8000 })
      .expect(200);
    const charged = settled.body.actualCredits as number;
    expect(charged).toBeGreaterThan(0);
    const pool = await t.db.query(
      `SELECT credit_available((SELECT account_id FROM accounts WHERE org_id = $1))::int AS n`,
      [orgId],
    );
    expect(pool.rows[0].n).toBe(100 - charged);
    const rec = await t.db.query(`SELECT user_id, org_id FROM usage_records WHERE org_id = $1`, [orgId]);
    expect(rec.rows).toEqual([{ user_id: m.id, org_id: orgId }]);
    // The org's ledger names the org on every line and the member on the lines they spent.
    const ledger = await t.http.get(`/api/orgs/${orgId}/ledger`).set(owner.auth).expect(200);
    const lines = (ledger.body.items as { kind: string; orgId: string; userId: string | null }[]).map((e) => [
      e.kind,
      e.orgId,
      e.userId,
    ]);
    expect(lines.filter(([kind]) => kind !== 'grant')).toEqual(expect.arrayContaining([['hold', orgId, m.id]]));
    expect(lines.every(([, org]) => org === orgId)).toBe(true);
    expect(lines.filter(([kind]) => kind !== 'grant').every(([, , user]) => user === m.id)).toBe(true);
  });

  it('the org’s balance alerts name the org: balance.low and balance.depleted with orgId', async () => {
    const [owner, m] = [await f.newUser(), await f.newUser()];
    const orgId = await newOrg(owner, m);
    await t.http
      .put(`/api/orgs/${orgId}/alerts`)
      .set(ADMIN)
      .send({ thresholds: [50] })
      .expect(200);
    const spend = (credits: number) =>
      t.http
        .post('/api/usage/record')
        .set(owner.auth)
        .send({ service: 'chat', operation: 'completion', credits, orgId })
        .expect(201);
    await spend(60);
    await spend(40);
    const { rows } = await t.db.query(
      `SELECT type, user_id, data FROM events WHERE type LIKE 'balance.%' AND data->>'orgId' = $1 ORDER BY created_at, id`,
      [orgId],
    );
    expect(rows).toEqual([
      { type: 'balance.low', user_id: null, data: { userId: null, orgId, threshold: 50, balance: 40 } },
      { type: 'balance.depleted', user_id: null, data: { userId: null, orgId } },
    ]);
  });
});
