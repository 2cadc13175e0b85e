import { randomUUID } from 'node:crypto';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';
import { expectOrgInvariants } from './support/org-invariants.js';

const adminJwt = tokenFor('admin', 'holds-together-admin');

/**
 * Initializations that arrive together go out in one statement (src/streaming-sessions/coalesced-holds.ts):
 * one credits_hold() call holds them all, each answered and held as if it had come alone, and a
 * statement that fails as a whole is sent again one initialization at a time.
 * Prices: 10 credits per 1k input tokens, so 1000 estimated tokens → estimate 10, hold 12; 500 →
 * estimate 5, hold 6.
 */
describe('initializations that arrive together', () => {
  let t: TestApp;
  const users: string[] = [];
  const orgs: string[] = [];
  let f: Fixtures;
  const model = `together-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users });
    const rule = await t.http
      .post('/api/pricing')
      .set(bearer(adminJwt))
      .send({ modelId: model, pricePer1kTokens: '10', outputPricePer1kTokens: '30' });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
  });
  afterEach(async () => {
    await expectInvariants(t, users);
    await expectOrgInvariants(t, orgs);
  });
  afterAll(() => t.close());

  const init = (auth: Record<string, string>, body: Record<string, unknown>) =>
    t.http
      .post('/api/streaming-sessions/initialize')
      .set(auth)
      .send({ modelId: model, ...body });

  /** An org with `credits` in its pool and members with a daily limit. */
  async function newOrg(credits: number, members: [FixtureUser, number][]): Promise<string> {
    const orgId = uniqueId('org').toLowerCase();
    await t.db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'admin')`, [orgId]);
    orgs.push(orgId);
    for (const [m, limit] of members)
      await t.db.query(
        `WITH m AS (INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, 'member'))
         INSERT INTO credit_caps (subject_kind, subject_id, account_id, credit_limit, period)
         VALUES ('member', $2, (SELECT account_id FROM accounts WHERE org_id = $1), $3::bigint, 'day')`,
        [orgId, m.id, limit],
      );
    await t.db.query(
      `SELECT 1 FROM credits_grant((SELECT account_id FROM accounts WHERE org_id = $1), $2, 'admin',
                                   now() + interval '30 days', NULL, 'manual', NULL, NULL, NULL, false)`,
      [orgId, credits],
    );
    return orgId;
  }
  const pool = async (orgId: string) =>
    (
      await t.db.query(`SELECT credit_available((SELECT account_id FROM accounts WHERE org_id = $1))::int AS n`, [
        orgId,
      ])
    ).rows[0].n as number;
  const spent = async (orgId: string, userId: string) =>
    (
      await t.db.query(
        `SELECT credit_cap_spent('member', $2, (SELECT account_id FROM accounts WHERE org_id = $1), 'day', now())::int AS n`,
        [orgId, userId],
      )
    ).rows[0].n as number;

  it("many users' sessions share a hold statement, each held and answered as alone", async () => {
    // 8 users × 5 sessions of hold 12 at once: 3 with their own tokens, 2 an admin opens naming them.
    const us = await Promise.all(Array.from({ length: 8 }, () => f.newUser({ credits: 100 })));
    const sent = us.flatMap((u) => [
      ...Array.from({ length: 3 }, () => ({ u, r: init(u.auth, { estimatedTokens: 1000 }) })),
      ...Array.from({ length: 2 }, () => ({ u, r: init(bearer(adminJwt), { userId: u.id, estimatedTokens: 1000 }) })),
    ]);
    const answers = await Promise.all(sent.map(async ({ u, r }) => ({ u, res: await r })));
    for (const { u, res } of answers) {
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body).toMatchObject({
        userId: u.id,
        orgId: null,
        modelId: model,
        estimatedCredits: 10,
        allocatedCredits: 12,
        usedCredits: 0,
        status: 'active',
      });
    }
    for (const u of us) expect(await f.available(u.id)).toBe(40);
    // Each session its hold row of 12 on its user's account, and its row naming the opener.
    const { rows } = await t.db.query(
      `SELECT h.session_id, a.user_id, h.outstanding, h.member_id, h.xmin::text AS tx, s.opened_by
         FROM credit_holds h JOIN accounts a USING (account_id)
         JOIN streaming_sessions s ON s.session_id = h.session_id AND s.user_id = a.user_id
        WHERE h.session_id = ANY($1)`,
      [answers.map((a) => a.res.body.sessionId)],
    );
    expect(rows).toHaveLength(answers.length);
    for (const row of rows) {
      const a = answers.find((x) => x.res.body.sessionId === row.session_id)!;
      expect(row).toMatchObject({ user_id: a.u.id, outstanding: 12, member_id: a.u.id });
    }
    expect(rows.filter((r) => r.opened_by === 'holds-together-admin')).toHaveLength(16);
    // They did arrive together: some transaction held sessions of more than one user.
    const usersByTx = new Map<string, Set<string>>();
    for (const row of rows) usersByTx.set(row.tx, (usersByTx.get(row.tx) ?? new Set()).add(row.user_id));
    expect(Math.max(...[...usersByTx.values()].map((s) => s.size))).toBeGreaterThan(1);
    // Settled as usual: 500 tokens are 5 credits, the rest of each hold comes back.
    const settled = await Promise.all(
      answers.map(({ u, res }) =>
        t.http
          .post('/api/streaming-sessions/finalize')
          .set(u.auth)
          .send({ sessionId: res.body.sessionId, actualTokens: 500 }),
      ),
    );
    for (const r of settled) expect(r.status, JSON.stringify(r.body)).toBe(200);
    for (const u of us) expect(await f.available(u.id)).toBe(75);
  });

  it('refusals and a session id sent twice in one burst answer each as alone', async () => {
    // short: 20 credits for three holds of 12 → one 201, two 402. twice: one session id sent twice
    // → one 201, one 409. A member limited to 10 opening two holds of 6 → one 201, one 402 naming the
    // limit; one limited to 1 opening two sessions of a zero estimate (each counts one credit while
    // open) → one 201, one 402. Others beside them open theirs.
    const short = await f.newUser({ credits: 20 });
    const twice = await f.newUser({ credits: 100 });
    const others = await Promise.all(Array.from({ length: 4 }, () => f.newUser({ credits: 30 })));
    const m = await f.newUser();
    const z = await f.newUser();
    const orgId = await newOrg(100, [
      [m, 10],
      [z, 1],
    ]);
    const sessionId = `twice-${randomUUID()}`;
    const burst = [
      ...Array.from({ length: 3 }, () => ({ who: 'short', r: init(short.auth, { estimatedTokens: 1000 }) })),
      ...Array.from({ length: 2 }, () => ({ who: 'twice', r: init(twice.auth, { sessionId, estimatedTokens: 1000 }) })),
      ...Array.from({ length: 2 }, () => ({ who: 'member', r: init(m.auth, { orgId, estimatedTokens: 500 }) })),
      ...Array.from({ length: 2 }, () => ({ who: 'zero', r: init(z.auth, { orgId, estimatedTokens: 0 }) })),
      ...others.map((o) => ({ who: 'other', r: init(o.auth, { estimatedTokens: 1000 }) })),
    ];
    const answers = await Promise.all(burst.map(async ({ who, r }) => ({ who, res: await r })));
    const of = (who: string) => answers.filter((a) => a.who === who).map((a) => a.res);
    const statuses = (who: string) => of(who).map((r) => r.status);

    expect(statuses('short').sort()).toEqual([201, 402, 402]);
    for (const r of of('short').filter((x) => x.status === 402))
      expect(r.body).toMatchObject({ code: 'INSUFFICIENT_CREDITS', requiredCredits: 12, availableCredits: 8 });
    expect(await f.available(short.id)).toBe(8);

    expect(statuses('twice').sort()).toEqual([201, 409]);
    expect(of('twice').find((r) => r.status === 409)!.body).toMatchObject({ code: 'SESSION_EXISTS' });
    expect(await f.available(twice.id)).toBe(88);

    expect(statuses('member').sort()).toEqual([201, 402]);
    expect(of('member').find((r) => r.status === 402)!.body).toMatchObject({
      code: 'MEMBER_LIMIT_EXCEEDED',
      limit: 10,
      spentInPeriod: 6,
    });
    expect(await spent(orgId, m.id)).toBe(6);
    expect(statuses('zero').sort()).toEqual([201, 402]);
    expect(of('zero').find((r) => r.status === 402)!.body).toMatchObject({ code: 'MEMBER_LIMIT_EXCEEDED', limit: 1 });
    expect(await spent(orgId, z.id)).toBe(1);
    expect(await pool(orgId)).toBe(94);

    for (const r of of('other')) expect(r.status, JSON.stringify(r.body)).toBe(201);
    for (const o of others) expect(await f.available(o.id)).toBe(18);
    const holds = await t.db.query(
      `SELECT count(*)::int AS n, sum(outstanding)::int AS held FROM credit_holds
        WHERE session_id = ANY($1) AND settled_at IS NULL`,
      [answers.filter((a) => a.res.status === 201).map((a) => a.res.body.sessionId)],
    );
    // the six users' holds of 12, the member's 6, the zero estimate's 0
    expect(holds.rows[0]).toEqual({ n: 8, held: 6 * 12 + 6 });
    // Aborted before any token: every hold back, and the zero estimate's credit off the counter.
    const byWho = { short, twice, member: m, zero: z } as Record<string, FixtureUser>;
    const opened = answers.filter((a) => a.res.status === 201);
    const aborted = await Promise.all(
      opened.map((a) =>
        t.http
          .post('/api/streaming-sessions/abort')
          .set((byWho[a.who] ?? others.find((o) => o.id === a.res.body.userId)!).auth)
          .send({ sessionId: a.res.body.sessionId }),
      ),
    );
    for (const r of aborted) expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(await spent(orgId, z.id)).toBe(0);
    expect(await pool(orgId)).toBe(100);
  });
});
