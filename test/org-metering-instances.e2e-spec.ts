import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';
import { expectOrgInvariants } from './support/org-invariants.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';

/**
 * A mixed workload of users and organisations on two app instances at once (records, batches mixing
 * both payers, streaming sessions settled below their estimate): no pool and no member limit is ever
 * passed (no overrun in this workload, so limits are hard), and the money invariants hold for every
 * user and org afterwards (remaining = total + Σ non-grant entries per allocation, reconcile clean,
 * nothing overspent, each member's counter equal to what their ledger lines spent).
 */
describe('organisations and users metered on two instances at once', () => {
  let a: TestApp;
  let b: TestApp;
  let f: Fixtures;
  const users: string[] = [];
  const orgs: string[] = [];

  beforeAll(async () => {
    [a, b] = await Promise.all([startTestApp(), startTestApp()]);
    f = new Fixtures(a, { users, prefix: 'omi' });
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('never passes a pool or a member limit; every invariant holds', async () => {
    const members: FixtureUser[] = [];
    for (let i = 0; i < 6; i++) members.push(await f.newUser({ credits: 20 }));
    const solos: FixtureUser[] = [];
    for (let i = 0; i < 3; i++) solos.push(await f.newUser({ credits: 40 }));
    // Two orgs of three members; limits 25, 40 and none; pools of 60 and 200.
    const limits = [25, 40, null];
    const pools = [60, 200];
    for (let o = 0; o < 2; o++) {
      const orgId = uniqueId('orgi').toLowerCase();
      orgs.push(orgId);
      await a.db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'admin')`, [orgId]);
      for (let j = 0; j < 3; j++) {
        await a.db.query(
          `WITH m AS (INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, 'member'))
           INSERT INTO credit_caps (subject_kind, subject_id, account_id, credit_limit, period)
           SELECT 'member', $2, (SELECT account_id FROM accounts WHERE org_id = $1), $3::bigint, 'day' WHERE $3::bigint IS NOT NULL`,
          [orgId, members[o * 3 + j].id, limits[j]],
        );
      }
      await a.db.query(
        `SELECT 1 FROM credits_grant((SELECT account_id FROM accounts WHERE org_id = $1), $2, 'admin', now() + interval '30 days', NULL, 'manual', NULL, NULL, NULL,
                                     false)`,
        [orgId, pools[o]],
      );
    }
    const orgOf = (i: number) => orgs[Math.floor(i / 3)];

    const jobs: (() => Promise<unknown>)[] = [];
    for (let round = 0; round < 6; round++) {
      members.forEach((m, i) => {
        const app = (round + i) % 2 ? a : b;
        // A record on the org, one on the member's own account.
        jobs.push(() =>
          app.http
            .post('/api/usage/record')
            .set(m.auth)
            .send({ service: 'chat', operation: 'c', credits: 1 + ((round + i) % 4), orgId: orgOf(i) }),
        );
        jobs.push(() =>
          app.http.post('/api/usage/record').set(m.auth).send({ service: 'chat', operation: 'c', credits: 1 }),
        );
        // A batch mixing both payers.
        jobs.push(() =>
          app.http
            .post('/api/usage/records/batch')
            .set(m.auth)
            .send({
              events: [
                { eventId: `b${round}-1-${m.id}`, service: 'chat', operation: 'c', credits: 2, orgId: orgOf(i) },
                { eventId: `b${round}-2-${m.id}`, service: 'chat', operation: 'c', credits: 1 },
                { eventId: `b${round}-3-${m.id}`, service: 'chat', operation: 'c', credits: 3, orgId: orgOf(i) },
              ],
            }),
        );
        // A session on the org (hold 6), settled below its estimate or aborted.
        jobs.push(async () => {
          const started = await app.http
            .post('/api/streaming-sessions/initialize')
            .set(m.auth)
            .send({ modelId: HAIKU, estimatedTokens: 20_000, orgId: orgOf(i) });
          if (started.status !== 201) return started;
          const other = app === a ? b : a;
          return round % 3 === 0
            ? other.http.post('/api/streaming-sessions/abort').set(m.auth).send({ sessionId: started.body.sessionId })
            : other.http
                .post('/api/streaming-sessions/finalize')
                .set(m.auth)
                .send({ sessionId: started.body.sessionId, actualTokens: 4000 * (round % 5) });
        });
      });
      solos.forEach((s, i) => {
        const app = (round + i) % 2 ? b : a;
        jobs.push(() =>
          app.http.post('/api/usage/record').set(s.auth).send({ service: 'chat', operation: 'c', credits: 3 }),
        );
      });
    }
    const answers = (await Promise.all(jobs.map((job) => job()))) as { status: number; body: { code?: string } }[];
    // Refusals are the limits' and the pools', never an error.
    for (const r of answers) {
      expect([200, 201, 402], JSON.stringify(r.body)).toContain(r.status);
      if (r.status === 402) {
        expect(['INSUFFICIENT_CREDITS', 'MEMBER_LIMIT_EXCEEDED']).toContain(r.body.code);
      }
    }
    expect(answers.some((r) => r.body.code === 'MEMBER_LIMIT_EXCEEDED')).toBe(true);

    // No pool below zero, no member past their limit (nothing overran in this workload).
    for (const orgId of orgs) {
      const { rows } = await a.db.query(
        `SELECT credit_available((SELECT account_id FROM accounts WHERE org_id = $1))::int AS n`,
        [orgId],
      );
      expect(rows[0].n).toBeGreaterThanOrEqual(0);
    }
    const { rows: over } = await a.db.query(
      `SELECT m.org_id, m.user_id, c.credit_limit, sp.spent
         FROM org_members m
         JOIN credit_caps c ON c.subject_kind = 'member' AND c.subject_id = m.user_id
                           AND c.account_id = (SELECT account_id FROM accounts WHERE org_id = m.org_id)
         CROSS JOIN LATERAL credit_cap_spent('member', m.user_id, c.account_id, 'day', now()) sp
        WHERE m.org_id = ANY($1) AND c.credit_limit IS NOT NULL AND sp.spent > c.credit_limit`,
      [orgs],
    );
    expect(over).toEqual([]);
    // Every org's records name a member of it.
    const { rows: records } = await a.db.query(
      `SELECT count(*)::int AS n FROM usage_records r WHERE r.org_id = ANY($1)
          AND NOT EXISTS (SELECT 1 FROM org_members m WHERE m.org_id = r.org_id AND m.user_id = r.user_id)`,
      [orgs],
    );
    expect(records[0].n).toBe(0);
    await expectInvariants(a, users);
    await expectOrgInvariants(a, orgs);
  });
});
