import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RerateRequestAccount1732005100000 } from '../migrations/1732005100000-rerate-request-account.js';
import { MIGRATIONS } from '../migrations/index.js';
import type { RecordCorrector } from '../src/rerates/record-corrector.js';
import { RecordCorrectors } from '../src/rerates/record-correctors.js';
import { RerateRunner } from '../src/rerates/rerate-runner.js';
import { simulationRulesJson } from '../src/usage/simulations/simulations.js';
import { simulationInput } from '../src/usage/simulations/simulations.service.js';
import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { MigrationDatabase } from './support/migration-database.js';

const admin = bearer(tokenFor('admin', 'rr-account-admin'));

/**
 * A re-rate's stored request names whose records it corrects as `account` (migration 1732005100000).
 * Re-rates stored in the old shape (`userId`, `orgId`) are rewritten by the migration, and back by
 * its down; resumed after it, each corrects the records it was asked for, answers as it did, and its
 * `rerateId` with the same body is still the same re-rate. A request still in the old shape (an
 * instance of the version before, while a deploy rolls) is read the same way.
 */
describe('re-rate requests stored in the old shape', () => {
  let own: MigrationDatabase;
  let t: TestApp;
  let f: Fixtures;
  const model = uniqueId('rr-account');
  const from = '2021-06-01T00:00:00.000Z';
  const to = '2021-06-02T00:00:00.000Z';
  const reason = 'the rule had a typo';
  const rules = JSON.parse(
    simulationRulesJson(simulationInput({ from, to, rules: [{ modelId: model, pricePer1kTokens: '5' }] }).rules),
  ) as unknown[];
  /** The record ids each correctionId was asked to correct, and the reasons given. */
  const corrected = new Map<string, string[]>();
  const reasons = new Set<string>();
  const corrector: RecordCorrector = {
    correctMany(_manager, correction, items) {
      corrected.set(correction.correctionId, [
        ...(corrected.get(correction.correctionId) ?? []),
        ...items.map((i) => i.recordId),
      ]);
      reasons.add(correction.reason);
      return Promise.resolve(items.map((i) => ({ recordId: i.recordId, delta: i.credits - 10 })));
    },
  };

  /** An old-shape re-rate, running, with its one lane at the start. */
  async function oldRerate(db: pg.Pool, userId: string | null, orgId: string | null) {
    const rerateId = uniqueId('rr');
    const request = { from, to, rules, userId, orgId, reason };
    const { rows } = await db.query<{ id: string }>(
      `WITH r AS (INSERT INTO pricing_rerates (rerate_id, request, created_by, lanes)
                  VALUES ($1, $2::jsonb, 'rr-account-admin', 1) RETURNING id),
            l AS (INSERT INTO pricing_rerate_lanes (rerate_id, lane) SELECT id, 0 FROM r)
       SELECT id FROM r`,
      [rerateId, JSON.stringify(request)],
    );
    return { id: rows[0].id, rerateId, request };
  }
  const stored = async (id: string) =>
    (await own.db.query<{ request: unknown }>(`SELECT request FROM pricing_rerates WHERE id = $1`, [id])).rows[0]
      .request;

  /** `n` records of 1,000 tokens billed 10 by a rule (5 under the re-rate's), in the range; their ids. */
  async function seed(userId: string, orgId: string | null, n: number): Promise<string[]> {
    const { rows } = await t.db.query<{ id: string }>(
      `INSERT INTO usage_records (user_id, org_id, service, operation, credits, model_id, tokens, pricing_rule_id,
                                  occurred_at, account_id)
       SELECT $1::varchar, $2::varchar, 'chat', 'completion', 10, $3, 1000, gen_random_uuid(),
              $5::timestamptz + g * interval '1 minute',
              (SELECT account_id FROM accounts WHERE CASE WHEN $2::varchar IS NULL THEN user_id = $1::varchar ELSE org_id = $2 END)
         FROM generate_series(1, $4::int) g
       RETURNING id`,
      [userId, orgId, model, n, from],
    );
    return rows.map((r) => r.id).sort();
  }

  /** Resumes the running re-rates, as the job does, until none is left (heavy reads take a few at a time). */
  async function resumeAll(): Promise<void> {
    const runner = t.app.get(RerateRunner);
    for (let i = 0; i < 5; i++) {
      await runner.resume();
      await runner.settled();
      const { rows } = await t.db.query(`SELECT 1 FROM pricing_rerates WHERE status = 'running'`);
      if (rows.length === 0) return;
    }
    throw new Error('re-rates still running');
  }

  let user: FixtureUser;
  let other: FixtureUser;
  let orgId: string;
  const rerates: Record<'user' | 'org' | 'every', Awaited<ReturnType<typeof oldRerate>>> = {} as never;

  beforeAll(async () => {
    own = await MigrationDatabase.create('accounting_rerate_account');
    await own.migrate(MIGRATIONS.filter((m) => m !== RerateRequestAccount1732005100000));
  });
  afterAll(async () => {
    await t?.close();
    await own?.close();
  });

  it('up names the account, down gives back both fields, up again', async () => {
    rerates.user = await oldRerate(own.db, 'rr-account-user', null);
    rerates.org = await oldRerate(own.db, null, 'rr-account-org');
    rerates.every = await oldRerate(own.db, null, null);
    await own.migrate();
    // Expand only: the version before still finds userId and orgId.
    expect(await stored(rerates.user.id)).toEqual({ ...rerates.user.request, account: { userId: 'rr-account-user' } });
    expect(await stored(rerates.org.id)).toEqual({ ...rerates.org.request, account: { orgId: 'rr-account-org' } });
    expect(await stored(rerates.every.id)).toEqual({ ...rerates.every.request, account: null });

    await own.revert(1);
    for (const r of Object.values(rerates)) expect(await stored(r.id)).toEqual(r.request);
    await own.migrate();
    expect(await stored(rerates.user.id)).toEqual({ ...rerates.user.request, account: { userId: 'rr-account-user' } });
  });

  it('resumed after the migration, each corrects its account’s records, answers as before, and is its rerateId', async () => {
    t = await startTestApp({ DATABASE_URL: own.url, JOBS_ENABLED: 'false' });
    f = new Fixtures(t, { prefix: 'rr-account' });
    t.app.get(RecordCorrectors).use(corrector);
    // The users and the org the stored requests name, made now (a request names them by id only).
    await t.http
      .get('/api/users/me')
      .set(bearer(tokenFor('user', 'rr-account-user')))
      .expect(200);
    orgId = 'rr-account-org';
    await t.db.query(`INSERT INTO orgs (org_id, name, created_by) VALUES ($1, $1, 'admin')`, [orgId]);
    await t.db.query(`INSERT INTO org_members (org_id, user_id, role) VALUES ($1, 'rr-account-user', 'member')`, [
      orgId,
    ]);
    user = { id: 'rr-account-user' } as FixtureUser;
    other = await f.newUser();
    const own3 = await seed(user.id, null, 3);
    const org2 = await seed(user.id, orgId, 2);
    const other2 = await seed(other.id, null, 2);

    await resumeAll();

    const answer = async (id: string) => (await t.http.get(`/api/pricing/rerates/${id}`).set(admin).expect(200)).body;
    const expected = (r: (typeof rerates)['user'], records: number, userId: string | null, org: string | null) => ({
      id: r.id,
      rerateId: r.rerateId,
      status: 'completed',
      records,
      corrected: records,
      delta: -5 * records,
      from,
      to,
      userId,
      orgId: org,
      reason,
      createdBy: 'rr-account-admin',
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
      lastError: null,
    });
    const userAnswer = await answer(rerates.user.id);
    expect(Object.keys(userAnswer)).toEqual(Object.keys(expected(rerates.user, 3, user.id, null)));
    expect(userAnswer).toEqual(expected(rerates.user, 3, user.id, null));
    expect(await answer(rerates.org.id)).toEqual(expected(rerates.org, 2, null, orgId));
    expect(await answer(rerates.every.id)).toEqual(expected(rerates.every, 7, null, null));
    const ids = (r: (typeof rerates)['user']) => [...(corrected.get(`rerate:${r.rerateId}`) ?? [])].sort();
    expect(ids(rerates.user)).toEqual(own3);
    expect(ids(rerates.org)).toEqual(org2);
    expect(ids(rerates.every)).toEqual([...own3, ...org2, ...other2].sort());
    expect([...reasons]).toEqual([reason]);

    // The same rerateId and body: that re-rate (200); another account: 422.
    const body = {
      rerateId: rerates.user.rerateId,
      from,
      to,
      userId: user.id,
      rules: [{ modelId: model, pricePer1kTokens: '5' }],
      reason,
    };
    const again = await t.http.post('/api/pricing/rerates').set(admin).send(body).expect(200);
    expect(again.body).toEqual(userAnswer);
    await t.http
      .post('/api/pricing/rerates')
      .set(admin)
      .send({ ...body, rerateId: rerates.org.rerateId, userId: undefined, orgId })
      .expect(200);
    await t.http
      .post('/api/pricing/rerates')
      .set(admin)
      .send({ ...body, rerateId: rerates.every.rerateId, userId: undefined })
      .expect(200);
    const reused = await t.http
      .post('/api/pricing/rerates')
      .set(admin)
      .send({ ...body, userId: undefined, orgId })
      .expect(422);
    expect(reused.body.code).toBe('RERATE_ID_REUSED');
  });

  it('a request still in the old shape, written after the migration, is read as the new one', async () => {
    const late = await oldRerate(t.db, user.id, null);
    await resumeAll();
    const done = await t.http.get(`/api/pricing/rerates/${late.id}`).set(admin).expect(200);
    expect(done.body).toMatchObject({ status: 'completed', records: 3, corrected: 3, userId: user.id, orgId: null });
    const body = {
      rerateId: late.rerateId,
      from,
      to,
      userId: user.id,
      rules: [{ modelId: model, pricePer1kTokens: '5' }],
      reason,
    };
    await t.http.post('/api/pricing/rerates').set(admin).send(body).expect(200);
  });

  it('a new re-rate stores its account (and userId and orgId for the version before), and its audit entry names userId and orgId as before', async () => {
    const rerateId = uniqueId('rr');
    const started = await t.http
      .post('/api/pricing/rerates')
      .set(admin)
      .send({ rerateId, from, to, orgId, rules: [{ modelId: model, pricePer1kTokens: '5' }], reason })
      .expect(202);
    expect(started.body).toMatchObject({ rerateId, userId: null, orgId });
    // Stored with userId and orgId beside the account, which the version before reads while a deploy rolls.
    expect(await stored(started.body.id)).toEqual({ from, to, rules, account: { orgId }, userId: null, orgId, reason });
    const audit = await t.db.query(`SELECT after FROM audit_log WHERE action = 'pricing.rerate' AND target_id = $1`, [
      started.body.id,
    ]);
    expect(audit.rows).toEqual([{ after: { rerateId, from, to, rules, userId: null, orgId, reason } }]);
    await resumeAll();
  });
});
