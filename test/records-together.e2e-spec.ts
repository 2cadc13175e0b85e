import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { MetricsService } from '../src/metrics/metrics.service.js';
import { bearer, startTestApp, type TestApp } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';
import { REFUSED_SERVICE } from './support/refused-records.js';

/**
 * Records that arrive together go out in one statement (src/usage/coalesced-records.ts): each is
 * still all or nothing on its own, answered as if it had come alone, and one record's fault fails
 * that record only.
 */
describe('records that arrive together', () => {
  let t: TestApp;
  const users: string[] = [];
  let f: Fixtures;
  const meter = tokenFor('admin', 'together-meter');

  beforeAll(async () => {
    t = await startTestApp();
    f = new Fixtures(t, { users });
  });
  afterEach(() => expectInvariants(t, users));
  afterAll(() => t.close());

  const record = (body: Record<string, unknown>) =>
    t.http
      .post('/api/usage/record')
      .set(bearer(meter))
      .send({ operation: 'op', ...body });

  it('shares statements among many users yet answers and charges each record as alone', async () => {
    const us = await Promise.all(Array.from({ length: 8 }, () => f.newUser({ credits: [5] })));
    // 8 users × 7 records of 1 credit, all at once: 5 each succeed, 2 each get 402.
    const sent = us.flatMap((u) =>
      Array.from({ length: 7 }, () => ({ u, r: record({ userId: u.id, service: 'together', credits: 1 }) })),
    );
    const answers = await Promise.all(sent.map(async ({ u, r }) => ({ u, res: await r })));
    for (const u of us) {
      const mine = answers.filter((a) => a.u === u).map((a) => a.res);
      expect(mine.filter((r) => r.status === 201)).toHaveLength(5);
      const refused = mine.filter((r) => r.status === 402);
      expect(refused).toHaveLength(2);
      for (const r of refused) expect(r.body).toMatchObject({ requiredCredits: 1, availableCredits: 0 });
      for (const r of mine.filter((x) => x.status === 201)) {
        expect(r.body).toMatchObject({ userId: u.id, credits: 1, service: 'together', actorId: 'together-meter' });
        expect(Number.isNaN(Date.parse(r.body.timestamp))).toBe(false);
      }
      expect(await f.available(u.id)).toBe(0);
    }
    // They did arrive together: some statement carried more than one record.
    const histogram = await t.app
      .get(MetricsService)
      .registry.getSingleMetric('accounting_records_per_statement')!
      .get();
    const bucket = (le: number | string) =>
      histogram.values.find(
        (v) => (v as { metricName?: string }).metricName?.endsWith('_bucket') && v.labels.le === le,
      )!.value;
    expect(bucket('+Inf') - bucket(1)).toBeGreaterThan(0);
    // Every record created is its own audit entry (credits named by a service principal): kept with
    // its request's id, and nothing written to audit_log.
    const created = answers.filter((a) => a.res.status === 201).map((a) => a.res);
    const { rows } = await t.db.query(
      `SELECT id, request_id FROM usage_records WHERE id = ANY($1) AND credits_named AND actor_id IS NOT NULL`,
      [created.map((r) => r.body.id)],
    );
    expect(rows).toHaveLength(created.length);
    for (const row of rows)
      expect(row.request_id).toBe(created.find((r) => r.body.id === row.id)!.headers['x-request-id']);
    const logged = await t.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE target_id = ANY($1)`, [
      created.map((r) => r.body.id),
    ]);
    expect(logged.rows[0].n).toBe(0);
  });

  it("users' and members' own records share one take, each line naming its writer", async () => {
    // Users recording with their own tokens and an organisation's members naming it: every record is
    // its own writer's, and records of many writers go out in one statement (one transaction).
    const us = await Promise.all(Array.from({ length: 6 }, () => f.newUser({ credits: [4] })));
    const members = await Promise.all(Array.from({ length: 4 }, () => f.newUser()));
    const orgId = `org-together-${Date.now()}`.toLowerCase();
    await t.db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'admin')`, [orgId]);
    for (const m of members)
      await t.db.query(`INSERT INTO org_members (org_id, user_id, role) VALUES ($1, $2, 'member')`, [orgId, m.id]);
    await t.db.query(
      `SELECT 1 FROM credits_grant((SELECT account_id FROM accounts WHERE org_id = $1), 10, 'admin',
                                   now() + interval '30 days', NULL, 'manual', NULL, NULL, NULL, false)`,
      [orgId],
    );
    const own = (u: (typeof us)[number], body: Record<string, unknown>) =>
      t.http
        .post('/api/usage/record')
        .set(u.auth)
        .send({ service: 'together', operation: 'op', credits: 1, ...body });
    // 6 users × 5 records against 4 credits each; 4 members × 3 records against the org's 10.
    const sent = [
      ...us.flatMap((u) => Array.from({ length: 5 }, () => ({ writer: u.id, org: false, r: own(u, {}) }))),
      ...members.flatMap((m) => Array.from({ length: 3 }, () => ({ writer: m.id, org: true, r: own(m, { orgId }) }))),
    ];
    const answers = await Promise.all(sent.map(async (s) => ({ ...s, res: await s.r })));
    for (const u of us) {
      const mine = answers.filter((a) => a.writer === u.id).map((a) => a.res.status);
      expect(mine.filter((s) => s === 201)).toHaveLength(4);
      expect(mine.filter((s) => s === 402)).toHaveLength(1);
      expect(await f.available(u.id)).toBe(0);
    }
    const orgStatuses = answers.filter((a) => a.org).map((a) => a.res.status);
    expect(orgStatuses.filter((s) => s === 201)).toHaveLength(10);
    expect(orgStatuses.filter((s) => s === 402)).toHaveLength(2);
    const created = answers.filter((a) => a.res.status === 201);
    for (const a of created) expect(a.res.body).toMatchObject({ userId: a.writer, actorId: null, credits: 1 });
    // Each record's debit line names its own writer (created_by) and, for the org's, the member.
    const { rows } = await t.db.query(
      `SELECT l.usage_record_id::text AS id, l.created_by, l.member_id, l.xmin::text AS tx
         FROM credit_ledger l WHERE l.usage_record_id = ANY($1) AND l.kind = 'debit'`,
      [created.map((a) => a.res.body.id)],
    );
    expect(rows).toHaveLength(created.length);
    for (const row of rows) {
      const a = created.find((c) => c.res.body.id === row.id)!;
      expect(row.created_by).toBe(a.writer);
      expect(row.member_id).toBe(a.writer);
    }
    // Some transaction took records of more than one writer.
    const writersByTx = new Map<string, Set<string>>();
    for (const row of rows) writersByTx.set(row.tx, (writersByTx.get(row.tx) ?? new Set()).add(row.created_by));
    expect(Math.max(...[...writersByTx.values()].map((w) => w.size))).toBeGreaterThan(1);
    const org = await t.db.query(
      `SELECT credit_available((SELECT account_id FROM accounts WHERE org_id = $1))::int AS n`,
      [orgId],
    );
    expect(org.rows[0].n).toBe(0);
  });

  it('one record the database refuses fails alone: the others arriving with it are recorded', async () => {
    // A fault in one record's row only (the run's database refuses REFUSED_SERVICE's records): its
    // statement fails as a whole, and every record it carried is sent again alone.
    const us = await Promise.all(Array.from({ length: 6 }, () => f.newUser({ credits: [10] })));
    const sends = us.flatMap((u, i) =>
      Array.from({ length: 4 }, (_, k) =>
        record({ userId: u.id, service: i === 2 && k === 1 ? REFUSED_SERVICE : 'together', credits: 2 }),
      ),
    );
    const statuses = (await Promise.all(sends)).map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(23);
    expect(statuses.filter((s) => s === 500)).toHaveLength(1);
    for (const [i, u] of us.entries()) expect(await f.available(u.id)).toBe(i === 2 ? 4 : 2);
  });
});
