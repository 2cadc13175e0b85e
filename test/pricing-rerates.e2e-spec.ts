import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';

import { DatabaseUnavailableError } from '../src/common/errors/domain-error.js';
import { HeavyReads } from '../src/database/heavy-reads.js';
import type { RecordCorrector } from '../src/rerates/record-corrector.js';
import { RecordCorrectors } from '../src/rerates/record-correctors.js';
import { RERATE_CHUNK, RerateRunner } from '../src/rerates/rerate-runner.js';
import { bearer, startTestApp, type TestApp, uniqueId } from './support/app.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';

const admin = bearer(tokenFor('admin', 'rerate-admin'));
const supervisor = bearer(tokenFor('supervisor', 'rerate-supervisor'));

/**
 * Re-rates (docs/pricing.md "Re-rating") driven over HTTP with a corrections engine of the test's own
 * (RecordCorrectors.use): it keeps each correction in a scratch table, one row per record and
 * correctionId (a repeat moves nothing, as the engine's), and counts every call, committed or not.
 * That isolates what the runner owns: which records it corrects, its chunks, its cursor and counts,
 * and its resumption after a lost connection with no record corrected twice.
 */
describe('pricing re-rates', () => {
  let t: TestApp;
  let own: OwnDatabase;
  let f: Fixtures;
  const users: string[] = [];
  const model = uniqueId('rerate');
  const calls = new Map<string, number>();
  let failAtChunk: number | null = null;
  let deadlockAtChunk: number | null = null;
  let chunkCalls = 0;
  /** Per call, how many lanes of two (the paying account's id modulo 2) its records are of. */
  const lanesPerCall: number[] = [];
  const from = '2021-03-01T00:00:00.000Z';
  const to = '2021-03-02T00:00:00.000Z';

  const corrector: RecordCorrector = {
    async correctMany(manager, correction, items) {
      // This call's number, taken before the first await: lanes run at once, so the counter moves on meanwhile.
      const call = ++chunkCalls;
      for (const item of items) calls.set(item.recordId, (calls.get(item.recordId) ?? 0) + 1);
      const lanes: { n: number }[] = await manager.query(
        `SELECT count(DISTINCT a.account_id % 2)::int AS n FROM usage_records u JOIN accounts a ON a.user_id = u.user_id
          WHERE u.id = ANY($1::uuid[])`,
        [items.map((i) => i.recordId)],
      );
      lanesPerCall.push(lanes[0].n);
      if (call === failAtChunk) throw new DatabaseUnavailableError(new Error('gone'));
      if (call === deadlockAtChunk) {
        // As TypeORM reports PostgreSQL's deadlock_detected: the chunk's transaction is rolled back.
        throw Object.assign(new Error('deadlock detected'), { driverError: { code: '40P01' } });
      }
      const rows: { record_id: string; delta: number }[] = await manager.query(
        `INSERT INTO rerate_test.corrections (record_id, correction_id, delta)
         SELECT u.id, $1, x.credits - u.credits
           FROM jsonb_to_recordset($2::jsonb) AS x(record_id uuid, credits int)
           JOIN usage_records u ON u.id = x.record_id
         ON CONFLICT DO NOTHING
         RETURNING record_id, delta`,
        [correction.correctionId, JSON.stringify(items.map((i) => ({ record_id: i.recordId, credits: i.credits })))],
      );
      return rows.map((r) => ({ recordId: r.record_id, delta: r.delta }));
    },
  };

  beforeAll(async () => {
    // The tests interrupt re-rates and resume them themselves (runner.resume()). Any instance's
    // re-rates job resumes every running re-rate of its database every 10 seconds: this app's, and
    // the apps of the spec files running beside this one. So a database of its own, and no jobs.
    own = await ownDatabase('rerates');
    t = await startTestApp({ DATABASE_URL: own.url, JOBS_ENABLED: 'false' });
    f = new Fixtures(t, { users, prefix: 'rr' });
    // In a schema of its own: the service's tables are public's, each with its owner in the docs.
    const role = new URL(inject('serviceDatabaseUrl')).username;
    await t.db.query(`CREATE SCHEMA IF NOT EXISTS rerate_test`);
    await t.db.query(
      `CREATE TABLE IF NOT EXISTS rerate_test.corrections (record_id uuid, correction_id text, delta int,
         PRIMARY KEY (record_id, correction_id))`,
    );
    await t.db.query(`GRANT USAGE ON SCHEMA rerate_test TO "${role}"`);
    await t.db.query(`GRANT ALL ON rerate_test.corrections TO "${role}"`);
    t.app.get(RecordCorrectors).use(corrector);
  });
  afterAll(async () => {
    await t?.close();
    await own?.drop();
  });
  beforeEach(() => {
    calls.clear();
    failAtChunk = null;
    deadlockAtChunk = null;
    chunkCalls = 0;
    lanesPerCall.length = 0;
  });

  /**
   * `priced` records of 1,000 tokens billed 10 credits by a rule (a rule of 5 per 1,000 tokens prices
   * them at 5), and `named` records that named 10 credits, all on 2021-03-01.
   */
  async function seed(u: FixtureUser, priced: number, named: number, day = from): Promise<void> {
    await t.db.query(
      `INSERT INTO usage_records (user_id, service, operation, credits, model_id, tokens, pricing_rule_id,
                                  credits_named, occurred_at, account_id)
       SELECT $1, 'chat', 'completion', 10, $2, 1000, CASE WHEN g <= $3::int THEN gen_random_uuid() END, g > $3::int,
              $5::timestamptz + (g % 86000) * interval '1 second', (SELECT account_id FROM accounts WHERE user_id = $1::varchar)
         FROM generate_series(1, $3::int + $4::int) g`,
      [u.id, model, priced, named, day],
    );
  }

  const body = (u: FixtureUser, rerateId: string, price = '5') => ({
    rerateId,
    from,
    to,
    userId: u.id,
    rules: [{ modelId: model, pricePer1kTokens: price }],
    reason: 'the rule had a typo',
  });

  it('corrects every record priced from counts that differs, leaves named credits alone, once', async () => {
    const u = await f.newUser();
    await seed(u, 30, 5);
    const rerateId = uniqueId('rr');
    const started = await t.http.post('/api/pricing/rerates').set(admin).send(body(u, rerateId)).expect(202);
    expect(started.body).toMatchObject({ rerateId, status: 'running', createdBy: 'rerate-admin' });
    await t.app.get(RerateRunner).settled();
    const done = await t.http.get(`/api/pricing/rerates/${started.body.id}`).set(supervisor).expect(200);
    expect(done.body).toMatchObject({ status: 'completed', records: 35, corrected: 30, delta: -150, lastError: null });
    expect(done.body.finishedAt).not.toBeNull();
    expect([...calls.values()].every((n) => n === 1)).toBe(true);
    expect(calls.size).toBe(30);

    // The same id and body: that re-rate, nothing more; another body: 422.
    const again = await t.http.post('/api/pricing/rerates').set(admin).send(body(u, rerateId)).expect(200);
    expect(again.body.id).toBe(started.body.id);
    const reused = await t.http
      .post('/api/pricing/rerates')
      .set(admin)
      .send(body(u, rerateId, '6'))
      .expect(422);
    expect(reused.body.code).toBe('RERATE_ID_REUSED');

    const listed = await t.http.get('/api/pricing/rerates?limit=500').set(supervisor).expect(200);
    expect(listed.body.items.map((r: { id: string }) => r.id)).toContain(started.body.id);
    const audit = await t.db.query(`SELECT 1 FROM audit_log WHERE action = 'pricing.rerate' AND target_id = $1`, [
      started.body.id,
    ]);
    expect(audit.rowCount).toBe(1);
  });

  it('resumes after a lost connection at its cursor: the committed chunk is not corrected again', async () => {
    const u = await f.newUser();
    await seed(u, RERATE_CHUNK + 10, 0);
    failAtChunk = 2;
    const started = await t.http
      .post('/api/pricing/rerates')
      .set(admin)
      .send(body(u, uniqueId('rr')))
      .expect(202);
    const runner = t.app.get(RerateRunner);
    await runner.settled();
    const halfway = await t.http.get(`/api/pricing/rerates/${started.body.id}`).set(admin).expect(200);
    expect(halfway.body).toMatchObject({ status: 'running', records: RERATE_CHUNK, corrected: RERATE_CHUNK });

    await runner.resume();
    await runner.settled();
    const done = await t.http.get(`/api/pricing/rerates/${started.body.id}`).set(admin).expect(200);
    expect(done.body).toMatchObject({ status: 'completed', records: RERATE_CHUNK + 10, corrected: RERATE_CHUNK + 10 });
    // The 10 of the chunk that rolled back were offered twice; none of the committed chunk's.
    const twice = [...calls.values()].filter((n) => n === 2).length;
    expect(twice).toBe(10);
    const { rows } = await t.db.query(
      `SELECT count(*)::int AS n FROM rerate_test.corrections c JOIN usage_records u ON u.id = c.record_id
        WHERE u.user_id = $1`,
      [u.id],
    );
    expect(rows[0].n).toBe(RERATE_CHUNK + 10);
  });

  /**
   * A re-rate of every account (RERATE_LANES, 2 here) over a day of its own: five users' records,
   * more than two chunks in all, in lanes by paying account.
   */
  async function everyAccount(day: string): Promise<{ users: FixtureUser[]; body: Record<string, unknown> }> {
    const all: FixtureUser[] = [];
    for (let i = 0; i < 5; i++) {
      const u = await f.newUser();
      await seed(u, 900, 0, day);
      all.push(u);
    }
    const end = new Date(Date.parse(day) + 86_400_000).toISOString();
    return {
      users: all,
      body: {
        rerateId: uniqueId('rr'),
        from: day,
        to: end,
        rules: [{ modelId: model, pricePer1kTokens: '5' }],
        reason: 'the rule had a typo',
      },
    };
  }

  /** The re-rate completed with each record of `users` corrected exactly once, and one completion event. */
  async function expectCompletedOnce(id: string, users: FixtureUser[]): Promise<void> {
    const done = await t.http.get(`/api/pricing/rerates/${id}`).set(admin).expect(200);
    expect(done.body).toMatchObject({ status: 'completed', records: 4500, corrected: 4500, delta: -22500 });
    const { rows } = await t.db.query(
      `SELECT count(*)::int AS n, count(DISTINCT c.record_id)::int AS records
         FROM rerate_test.corrections c JOIN usage_records u ON u.id = c.record_id
        WHERE u.user_id = ANY($1::varchar[]) AND c.correction_id = $2`,
      [users.map((u) => u.id), `rerate:${done.body.rerateId as string}`],
    );
    expect(rows[0]).toEqual({ n: 4500, records: 4500 });
    const lanes = await t.db.query(`SELECT lane, done FROM pricing_rerate_lanes WHERE rerate_id = $1 ORDER BY lane`, [
      id,
    ]);
    expect(lanes.rows).toEqual([
      { lane: 0, done: true },
      { lane: 1, done: true },
    ]);
    const events = await t.db.query(
      `SELECT data FROM events WHERE type = 'pricing.rerate.completed' AND data->>'id' = $1`,
      [id],
    );
    expect(events.rows).toEqual([
      { data: { id, rerateId: done.body.rerateId, records: 4500, corrected: 4500, delta: -22500 } },
    ]);
  }

  it('runs a re-rate of every account in lanes by paying account: no chunk spans two, each record once', async () => {
    const { users: all, body: lanesBody } = await everyAccount('2021-04-01T00:00:00.000Z');
    const started = await t.http.post('/api/pricing/rerates').set(admin).send(lanesBody).expect(202);
    await t.app.get(RerateRunner).settled();
    await expectCompletedOnce(started.body.id, all);
    expect([...calls.values()].every((n) => n === 1)).toBe(true);
    expect(lanesPerCall.length).toBeGreaterThanOrEqual(3);
    expect(lanesPerCall.every((n) => n === 1)).toBe(true);
  });

  it('resumes each lane at its own cursor after a lost connection: no committed chunk again', async () => {
    const { users: all, body: lanesBody } = await everyAccount('2021-04-03T00:00:00.000Z');
    failAtChunk = 2;
    const started = await t.http.post('/api/pricing/rerates').set(admin).send(lanesBody).expect(202);
    const runner = t.app.get(RerateRunner);
    await runner.settled();
    const halfway = await t.http.get(`/api/pricing/rerates/${started.body.id}`).set(admin).expect(200);
    expect(halfway.body.status).toBe('running');
    expect(halfway.body.records).toBeLessThan(4500);
    const offered = new Set(calls.keys());
    // What the first run committed: the corrections its chunks wrote before the lost connection.
    const { rows: written } = await t.db.query<{ id: string }>(
      `SELECT record_id::text AS id FROM rerate_test.corrections WHERE record_id = ANY($1::uuid[])`,
      [[...offered]],
    );
    const committed = new Set(written.map((r) => r.id));
    expect(committed.size).toBe(halfway.body.records);

    await runner.resume();
    await runner.settled();
    await expectCompletedOnce(started.body.id, all);
    // Offered twice: only records of chunks that rolled back (the failed one, and another lane's chunk
    // under way when its re-rate stopped), never one a committed chunk corrected.
    const twice = [...calls.entries()].filter(([, n]) => n === 2).map(([id]) => id);
    expect(twice.length).toBeGreaterThan(0);
    expect(twice.filter((id) => committed.has(id))).toEqual([]);
    expect(twice.length).toBeLessThanOrEqual(Math.min(2 * RERATE_CHUNK, offered.size - committed.size));
    expect([...calls.values()].every((n) => n <= 2)).toBe(true);
  });

  it('writes a chunk again that a deadlock rolled back: the re-rate completes, each record once', async () => {
    const u = await f.newUser();
    await seed(u, RERATE_CHUNK + 10, 0);
    deadlockAtChunk = 2;
    const started = await t.http
      .post('/api/pricing/rerates')
      .set(admin)
      .send(body(u, uniqueId('rr')))
      .expect(202);
    await t.app.get(RerateRunner).settled();
    const done = await t.http.get(`/api/pricing/rerates/${started.body.id}`).set(admin).expect(200);
    expect(done.body).toMatchObject({ status: 'completed', records: RERATE_CHUNK + 10, corrected: RERATE_CHUNK + 10 });
    expect(chunkCalls).toBe(3);
    expect([...calls.values()].filter((n) => n === 2)).toHaveLength(10);
  });

  it('is refused with 429 and Retry-After when the heavy reads are all taken; checks its range', async () => {
    const u = await f.newUser();
    const heavy = t.app.get(HeavyReads);
    // Every place taken, however many the instance has.
    const places = Array.from({ length: heavy.stats().max }, () => heavy.place());
    try {
      const busy = await t.http
        .post('/api/pricing/rerates')
        .set(admin)
        .send(body(u, uniqueId('rr')))
        .expect(429);
      expect(busy.headers['retry-after']).toBeDefined();
    } finally {
      for (const free of places) free();
    }
    const long = { ...body(u, uniqueId('rr')), to: '2022-06-01T00:00:00.000Z' };
    expect((await t.http.post('/api/pricing/rerates').set(admin).send(long).expect(400)).body.code).toBe(
      'RANGE_TOO_LONG',
    );
    await t.http
      .post('/api/pricing/rerates')
      .set(supervisor)
      .send(body(u, uniqueId('rr')))
      .expect(403);
    await t.http.get('/api/pricing/rerates/0193a1b2-7c4d-7e5f-8a9b-0c1d2e3f4a61').set(admin).expect(404);
  });
});
