import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { SessionExpiryJob } from '../src/streaming-sessions/session-expiry.job.js';
import { StreamingSessionsService } from '../src/streaming-sessions/streaming-sessions.service.js';
import { startTestApp, TEST_INTERNAL_API_KEY, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';
import { expectOrgInvariants } from './support/org-invariants.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const INTERNAL = { 'X-Internal-Api-Key': TEST_INTERNAL_API_KEY };

/**
 * Paying from an organisation (docs/orgs.md "Paying from an organisation": the member limit stacking
 * atomically with the other caps, keys of a membership, leaving), over HTTP with the users trust of the test app
 * (a member meters their own org usage by sending `orgId`). Orgs and members are made by SQL: their
 * routes are another branch's.
 */
describe('organisations pay for their members', () => {
  let t: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const orgs: string[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users, prefix: 'om' });
  });
  afterEach(async () => {
    await expectInvariants(t, users);
    await expectOrgInvariants(t, orgs);
  });
  afterAll(() => t.close());

  /** An org with `credits` in its pool and members with a daily limit (null: none). */
  async function newOrg(credits: number, members: [FixtureUser, number | null][]): Promise<string> {
    const orgId = uniqueId('org').toLowerCase();
    await t.db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'admin')`, [orgId]);
    orgs.push(orgId);
    for (const [m, limit] of members) await setMember(orgId, m.id, limit);
    if (credits > 0) {
      await t.db.query(
        `SELECT 1 FROM credits_grant((SELECT account_id FROM accounts WHERE org_id = $1), $2, 'admin', now() + interval '30 days', NULL, 'manual', NULL, NULL, NULL,
                                     false)`,
        [orgId, credits],
      );
    }
    return orgId;
  }
  const setMember = (orgId: string, userId: string, limit: number | null, period = 'day') =>
    t.db.query(
      `WITH m AS (INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, 'member')
                  ON CONFLICT (org_id, user_id) DO UPDATE SET removed_at = NULL)
       INSERT INTO credit_caps (subject_kind, subject_id, account_id, credit_limit, period)
       VALUES ('member', $2, (SELECT account_id FROM accounts WHERE org_id = $1), $3::bigint, CASE WHEN $3::bigint IS NULL THEN NULL ELSE $4 END)
       ON CONFLICT (subject_kind, subject_id, account_id) DO UPDATE
         SET credit_limit = EXCLUDED.credit_limit, period = EXCLUDED.period`,
      [orgId, userId, limit, period],
    );
  const remove = (orgId: string, userId: string) =>
    t.db.query(`UPDATE org_members SET removed_at = now() WHERE org_id = $1 AND user_id = $2`, [orgId, userId]);
  const pool = async (orgId: string) =>
    Number(
      (
        await t.db.query(`SELECT credit_available((SELECT account_id FROM accounts WHERE org_id = $1))::int AS n`, [
          orgId,
        ])
      ).rows[0].n,
    );
  const spent = async (orgId: string, userId: string, period = 'day') =>
    Number(
      (
        await t.db.query(
          `SELECT credit_cap_spent('member', $2, (SELECT account_id FROM accounts WHERE org_id = $1), $3, now())::int AS n`,
          [orgId, userId, period],
        )
      ).rows[0].n,
    );
  const record = (m: Pick<FixtureUser, 'auth'>, credits: number, body: Record<string, unknown> = {}) =>
    t.http
      .post('/api/usage/record')
      .set(m.auth)
      .send({ service: 'chat', operation: 'completion', credits, ...body });
  const parallel = <T>(n: number, send: (i: number) => PromiseLike<T>) =>
    Promise.all(Array.from({ length: n }, (_, i) => send(i)));
  const nextUtcMidnight = () => {
    const d = new Date();
    return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)).toISOString();
  };

  it('20 parallel records of 5 by a member limited to 50: exactly 10 pass, the rest name the limit', async () => {
    const m = await f.newUser({ credits: 7 });
    const orgId = await newOrg(1000, [[m, 50]]);
    const results = await parallel(20, () => record(m, 5, { orgId }));
    expect(results.filter((r) => r.status === 201)).toHaveLength(10);
    const refused = results.filter((r) => r.status === 402);
    expect(refused).toHaveLength(10);
    for (const r of refused) {
      expect(r.body).toMatchObject({
        code: 'MEMBER_LIMIT_EXCEEDED',
        requiredCredits: 5,
        limit: 50,
        spentInPeriod: 50,
        resetsAt: nextUtcMidnight(),
      });
    }
    const created = results.find((r) => r.status === 201)!.body;
    expect(created).toMatchObject({ userId: m.id, orgId, credits: 5 });
    expect(await pool(orgId)).toBe(950);
    expect(await spent(orgId, m.id)).toBe(50);
    // The member's own account paid nothing; their ledger lines on the org name them.
    expect(await f.available(m.id)).toBe(7);
    const { rows: lines } = await t.db.query(
      `SELECT member_id, sum(-amount)::int AS n FROM credit_ledger
        WHERE account_id = (SELECT account_id FROM accounts WHERE org_id = $1) AND kind = 'debit' GROUP BY member_id`,
      [orgId],
    );
    expect(lines).toEqual([{ member_id: m.id, n: 50 }]);
    const { rows: events } = await t.db.query(
      `SELECT user_id, data FROM events WHERE type = 'org.member_limit_reached' AND data->>'orgId' = $1`,
      [orgId],
    );
    expect(events).toEqual([
      { user_id: m.id, data: { orgId, userId: m.id, limit: 50, spentInPeriod: 50, period: 'day' } },
    ]);
    // Changing the limit never resets the spending; raising it lets the member go on.
    await setMember(orgId, m.id, 60, 'week');
    expect(await spent(orgId, m.id, 'week')).toBe(50);
    expect((await record(m, 11, { orgId })).body).toMatchObject({ code: 'MEMBER_LIMIT_EXCEEDED', limit: 60 });
    await record(m, 10, { orgId }).expect(201);
  });

  it('a pool of 30 shared by two members: exactly 10 records of 3 pass', async () => {
    const [a, b] = [await f.newUser(), await f.newUser()];
    const orgId = await newOrg(30, [
      [a, null],
      [b, null],
    ]);
    const results = await parallel(20, (i) => record(i % 2 ? a : b, 3, { orgId }));
    expect(results.filter((r) => r.status === 201)).toHaveLength(10);
    const refused = results.filter((r) => r.status === 402);
    expect(refused).toHaveLength(10);
    for (const r of refused) expect(r.body.code).toBe('INSUFFICIENT_CREDITS');
    expect(await pool(orgId)).toBe(0);
    expect((await spent(orgId, a.id)) + (await spent(orgId, b.id))).toBe(30);
  });

  it('a session holds on the org against the member limit; settlement replaces the hold by the actual', async () => {
    const m = await f.newUser();
    // 20,000 haiku tokens: estimate 5, hold 6.
    const orgId = await newOrg(100, [[m, 10]]);
    const init = (sessionId: string) =>
      t.http
        .post('/api/streaming-sessions/initialize')
        .set(m.auth)
        .send({ modelId: HAIKU, estimatedTokens: 20_000, sessionId, orgId });
    const s1 = await init(`s1-${m.id}`).expect(201);
    expect(s1.body).toMatchObject({ userId: m.id, orgId, allocatedCredits: 6 });
    expect(await spent(orgId, m.id)).toBe(6);
    const refused = await init(`s2-${m.id}`).expect(402);
    expect(refused.body).toMatchObject({ code: 'MEMBER_LIMIT_EXCEEDED', limit: 10, spentInPeriod: 6 });
    // 8,000 tokens: 2 credits; 4 of the hold come back off the counter and to the pool.
    await t.http
      .post('/api/streaming-sessions/finalize')
      .set(m.auth)
      .send({ sessionId: `s1-${m.id}`, actualTokens: 8000 })
      .expect(200);
    expect(await spent(orgId, m.id)).toBe(2);
    expect(await pool(orgId)).toBe(98);
    await init(`s2-${m.id}`).expect(201);
    expect(await spent(orgId, m.id)).toBe(8);
    // An overrun counts and may pass the limit: 48,000 tokens are 12 credits, 6 of them beyond the hold.
    await t.http
      .post('/api/streaming-sessions/finalize')
      .set(m.auth)
      .send({ sessionId: `s2-${m.id}`, actualTokens: 48_000 })
      .expect(200);
    expect(await spent(orgId, m.id)).toBe(14);
    expect(await pool(orgId)).toBe(86);
    const { rows } = await t.db.query(
      `SELECT user_id, org_id, credits FROM usage_records WHERE org_id = $1 ORDER BY "timestamp"`,
      [orgId],
    );
    expect(rows).toEqual([
      { user_id: m.id, org_id: orgId, credits: 2 },
      { user_id: m.id, org_id: orgId, credits: 12 },
    ]);
  });

  it('two members of one org cannot share a session id: the second initialize is 409 and moves nothing', async () => {
    const [a, b] = [await f.newUser(), await f.newUser()];
    const orgId = await newOrg(100, [
      [a, null],
      [b, null],
    ]);
    const sessionId = uniqueId('shared');
    const init = (m: FixtureUser) =>
      t.http
        .post('/api/streaming-sessions/initialize')
        .set(m.auth)
        .send({ modelId: HAIKU, estimatedTokens: 20_000, sessionId, orgId });
    await init(a).expect(201);
    expect((await init(b).expect(409)).body.code).toBe('SESSION_EXISTS');
    expect(await pool(orgId)).toBe(94);
    expect(await spent(orgId, b.id)).toBe(0);
    // a's session settles on its own hold only.
    await t.http
      .post('/api/streaming-sessions/finalize')
      .set(a.auth)
      .send({ sessionId, actualTokens: 8000 })
      .expect(200);
    expect(await pool(orgId)).toBe(98);
    expect(await spent(orgId, a.id)).toBe(2);
  });

  it('an abandoned org session expires on the org: charged its estimate, counted on the member', async () => {
    const m = await f.newUser();
    const orgId = await newOrg(100, [[m, 50]]);
    const sessionId = uniqueId('exp');
    await t.http
      .post('/api/streaming-sessions/initialize')
      .set(m.auth)
      .send({ modelId: HAIKU, estimatedTokens: 20_000, sessionId, orgId })
      .expect(201);
    await t.db.query(
      `UPDATE streaming_sessions SET started_at = now() - interval '2 hours', expires_at = now() - interval '1 hour'
        WHERE session_id = $1 AND user_id = $2`,
      [sessionId, m.id],
    );
    expect(await t.app.get(SessionExpiryJob).expireAbandoned()).toBeGreaterThanOrEqual(1);
    // Estimate 5 of a hold of 6.
    expect(await pool(orgId)).toBe(95);
    expect(await spent(orgId, m.id)).toBe(5);
    const { rows } = await t.db.query(
      `SELECT data FROM events WHERE type = 'session.expired' AND data->>'sessionId' = $1`,
      [sessionId],
    );
    expect(rows).toEqual([{ data: { userId: m.id, sessionId, charged: 5, orgId } }]);
  });

  it('a batch mixes the member’s own events and the org’s, each decided on its payer', async () => {
    const m = await f.newUser({ credits: 4 });
    const orgId = await newOrg(100, [[m, 10]]);
    const stranger = await newOrg(100, []);
    const ev = (i: number, credits: number, org?: string) => ({
      eventId: `e${i}-${m.id}`,
      service: 'chat',
      operation: 'completion',
      credits,
      ...(org ? { orgId: org } : {}),
    });
    const res = await t.http
      .post('/api/usage/records/batch')
      .set(m.auth)
      .send({ events: [ev(1, 3), ev(2, 6, orgId), ev(3, 5, orgId), ev(4, 3), ev(5, 4, orgId), ev(6, 1, stranger)] })
      .expect(200);
    expect(res.body.results.map((r: { status: string; error?: string }) => [r.status, r.error ?? null])).toEqual([
      ['created', null],
      ['created', null],
      ['insufficient_credits', expect.stringMatching(/^MEMBER_LIMIT_EXCEEDED: /)],
      ['insufficient_credits', 'INSUFFICIENT_CREDITS: Insufficient credits'],
      ['created', null],
      ['invalid', expect.stringMatching(/^NOT_A_MEMBER/)],
    ]);
    expect(await f.available(m.id)).toBe(1);
    expect(await pool(orgId)).toBe(90);
    expect(await pool(stranger)).toBe(100);
    expect(await spent(orgId, m.id)).toBe(10);
    const { rows } = await t.db.query(
      `SELECT org_id, sum(credits)::int AS n FROM usage_records WHERE user_id = $1 GROUP BY org_id ORDER BY org_id`,
      [m.id],
    );
    expect(rows).toEqual([
      { org_id: orgId, n: 10 },
      { org_id: null, n: 3 },
    ]);
    // The member's own stats count what their account paid; the org's usage is the org's.
    const stats = await t.http.get('/api/usage/stats').set(m.auth).expect(200);
    expect(stats.body.totalCredits ?? stats.body.total?.credits).toBe(3);
    // CSV rows carry the org.
    const csv = await t.http.get('/api/usage/records?format=csv').set(m.auth).expect(200);
    const [header, ...lines] = csv.text.trim().split('\r\n');
    // orgId, then the service tier and the units (none here).
    expect(header.split(',').slice(-3)).toEqual(['orgId', 'serviceTier', 'units']);
    expect(lines.filter((l) => l.endsWith(`,"${orgId}",,`))).toHaveLength(2);
    expect(lines.filter((l) => l.endsWith(',,,'))).toHaveLength(1);
  });

  it('NOT_A_MEMBER: a stranger, a removed member, another org, a key of another org: nothing written', async () => {
    const [m, stranger] = [await f.newUser({ credits: 5 }), await f.newUser({ credits: 5 })];
    const orgA = await newOrg(50, [[m, null]]);
    const orgB = await newOrg(50, []);
    const keyA = await f.apiKey(m, { orgId: orgA });
    expect(keyA).toMatchObject({ orgId: orgA });
    // A key of A naming B.
    const viaKey = await t.http
      .post('/api/usage/record')
      .set('X-API-Key', keyA.key)
      .send({ service: 'chat', operation: 'completion', credits: 1, orgId: orgB })
      .expect(403);
    expect(viaKey.body).toMatchObject({ code: 'NOT_A_MEMBER', orgId: orgB });
    // The key of A charges A without naming it.
    const charged = await t.http
      .post('/api/usage/record')
      .set('X-API-Key', keyA.key)
      .send({ service: 'chat', operation: 'completion', credits: 2 })
      .expect(201);
    expect(charged.body).toMatchObject({ orgId: orgA, userId: m.id, apiKeyId: keyA.id });
    const verified = await t.http.post('/api/api-keys/verify').set(INTERNAL).send({ key: keyA.key }).expect(200);
    expect(verified.body).toMatchObject({ valid: true, userId: m.id, orgId: orgA });
    expect((await record(stranger, 1, { orgId: orgA }).expect(403)).body.code).toBe('NOT_A_MEMBER');
    expect((await record(m, 1, { orgId: orgB }).expect(403)).body.code).toBe('NOT_A_MEMBER');
    // A 0-credit record is refused as well: nothing is written for a non-member.
    await record(stranger, 0, { orgId: orgA }).expect(403);
    // Not a member of B: no key of B.
    const noKey = await t.http.post('/api/api-keys').set(m.auth).send({ name: 'k', orgId: orgB }).expect(403);
    expect(noKey.body.code).toBe('NOT_A_MEMBER');
    // Removed: the org key stops working (401), metering on the org is refused.
    await remove(orgA, m.id);
    await t.http
      .post('/api/usage/record')
      .set('X-API-Key', keyA.key)
      .send({ service: 'chat', operation: 'completion', credits: 1 })
      .expect(401);
    const gone = await t.http.post('/api/api-keys/verify').set(INTERNAL).send({ key: keyA.key }).expect(200);
    expect(gone.body).toEqual({ valid: false, reason: 'not_a_member' });
    expect((await record(m, 1, { orgId: orgA }).expect(403)).body.code).toBe('NOT_A_MEMBER');
    await t.http
      .post('/api/streaming-sessions/initialize')
      .set(m.auth)
      .send({ modelId: HAIKU, estimatedTokens: 100, orgId: orgA })
      .expect(403);
    // Only the key's record of 2 was written.
    expect(await pool(orgA)).toBe(48);
    expect(await pool(orgB)).toBe(50);
    const { rows } = await t.db.query(
      `SELECT count(*)::int AS n FROM usage_records WHERE user_id = ANY($1) AND org_id IS NOT NULL`,
      [[m.id, stranger.id]],
    );
    expect(rows[0].n).toBe(1);
    // The member's own account still works.
    await record(m, 1).expect(201);
  });

  it('a key budget, the member limit and the org window stack: the binding one is named', async () => {
    const m = await f.newUser();
    const orgId = await newOrg(1000, [[m, 30]]);
    const key = await f.apiKey(m, { orgId, creditLimit: 20, limitPeriod: 'day' });
    await t.db.query(
      `INSERT INTO credit_accounts (account_id, max_credits_per_hour) VALUES ((SELECT account_id FROM accounts WHERE org_id = $1), 25)
       ON CONFLICT (account_id) DO UPDATE SET max_credits_per_hour = 25`,
      [orgId],
    );
    const viaKey = (credits: number) =>
      t.http
        .post('/api/usage/record')
        .set('X-API-Key', key.key)
        .send({ service: 'chat', operation: 'completion', credits });
    await viaKey(15).expect(201);
    expect((await viaKey(10)).body.code).toBe('KEY_LIMIT_EXCEEDED');
    expect((await record(m, 11, { orgId })).status).toBe(429);
    await record(m, 10, { orgId }).expect(201);
    expect((await record(m, 6, { orgId })).body).toMatchObject({ code: 'MEMBER_LIMIT_EXCEEDED', spentInPeriod: 25 });
    expect(await pool(orgId)).toBe(975);
  });

  it('releasing a leaving member’s sessions: nothing charged, holds back, later finalize 409', async () => {
    const [m, other] = [await f.newUser({ credits: 20 }), await f.newUser()];
    const orgId = await newOrg(100, [
      [m, 50],
      [other, null],
    ]);
    const init = (who: FixtureUser, sessionId: string, org?: string) =>
      t.http
        .post('/api/streaming-sessions/initialize')
        .set(who.auth)
        .send({ modelId: HAIKU, estimatedTokens: 20_000, sessionId, ...(org ? { orgId: org } : {}) })
        .expect(201);
    await init(m, `r1-${m.id}`, orgId);
    await init(m, `r2-${m.id}`, orgId);
    await init(m, `own-${m.id}`);
    await init(other, `o1-${other.id}`, orgId);
    expect(await pool(orgId)).toBe(100 - 18);
    expect(await spent(orgId, m.id)).toBe(12);
    await remove(orgId, m.id);
    const sessions = t.app.get(StreamingSessionsService);
    const org = {
      orgId,
      accountId: (await t.db.query(`SELECT account_id::text AS id FROM accounts WHERE org_id = $1`, [orgId])).rows[0]
        .id as string,
    };
    expect(await sessions.releaseMemberSessions(org, m.id, 'org-admin')).toBe(2);
    expect(await sessions.releaseMemberSessions(org, m.id)).toBe(0);
    expect(await pool(orgId)).toBe(100 - 6);
    expect(await spent(orgId, m.id)).toBe(0);
    const late = await t.http
      .post('/api/streaming-sessions/finalize')
      .set(m.auth)
      .send({ sessionId: `r1-${m.id}`, actualTokens: 8000 })
      .expect(409);
    expect(late.body.code).toBe('ALREADY_SETTLED');
    // The member's own session and the other member's are untouched.
    await t.http
      .post('/api/streaming-sessions/finalize')
      .set(m.auth)
      .send({ sessionId: `own-${m.id}`, actualTokens: 8000 })
      .expect(200);
    await t.http
      .post('/api/streaming-sessions/finalize')
      .set(other.auth)
      .send({ sessionId: `o1-${other.id}`, actualTokens: 8000 })
      .expect(200);
    expect(await pool(orgId)).toBe(100 - 2);
    const { rows } = await t.db.query(
      `SELECT status, actual_credits, refund FROM streaming_sessions WHERE user_id = $1 AND org_id = $2 ORDER BY session_id`,
      [m.id, orgId],
    );
    expect(rows).toEqual([
      { status: 'aborted', actual_credits: 0, refund: 6 },
      { status: 'aborted', actual_credits: 0, refund: 6 },
    ]);
  });
});
