import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RERATE_CHUNK, RerateRunner } from '../src/rerates/rerate-runner.js';
import { bearer, startTestApp, TEST_JWT_SECRET, type TestApp, uniqueId } from './support/app.js';
import { buildServer } from './support/build-server.js';
import { Fixtures, type FixtureUser, tokenFor } from './support/fixtures.js';
import { expectInvariants } from './support/invariants.js';
import { migrate, type OwnDatabase, ownDatabase } from './support/own-database.js';
import { pgBinariesAvailable, ThrowawayServer } from './support/pg-cluster.js';
import { type ServiceProcess, spawnService } from './support/service-process.js';
import { until } from './support/until.js';

// A re-rate (docs/pricing.md "Re-rating") cut while its second chunk is half written: the first chunk
// committed (its corrections and the cursor), the second's first corrections written but not
// committed, the chunk waiting for a record the spec holds locked. Then the process is killed, or the
// database restarts, and another instance resumes the re-rate at its cursor: every record the new price
// changes ends with exactly one correction `rerate:<rerateId>`. Nothing here waits for time: it waits
// for the chunk to wait on the lock. The killed re-rate is one of every account, in two lanes (one of
// them empty, done before the cut); the restarted one is of the user, in one.
const adminToken = tokenFor('admin', 'rerate-faults-admin');
const admin = bearer(adminToken);
const root = fileURLToPath(new URL('..', import.meta.url));
/** Records metered on each side of the chunk boundary, priced at 10 credits, 4 under the re-rate. */
const FEW = 5;
const PRICED = 10;
const RERATED = 4;
const GRANTED = 1000;

/** `until()` with the bound a killed instance's lease needs: 60 s. */
const untilLong = (what: string, check: () => Promise<boolean>) => until(what, check, 60_000, 25);

interface Seeded {
  user: FixtureUser;
  /** The records of the first chunk the re-rate changes, by occurredAt. */
  first: string[];
  /** Those of the second chunk. */
  second: string[];
  body: Record<string, unknown>;
}

/**
 * A user's records in two chunks: FEW metered records (10 credits by the rule in force), then
 * RERATE_CHUNK − FEW records that named their credits (0: the re-rate leaves them alone and the
 * invariants hold without ledger lines), closing the first chunk, then FEW more metered ones, the
 * second chunk. The re-rate's body prices the model at 4.
 */
async function seed(t: TestApp): Promise<Seeded> {
  const f = new Fixtures(t, { prefix: 'rrf', granter: adminToken });
  const model = uniqueId('rerate-faults');
  await t.http.get('/api/users/me').set(admin).expect(200);
  await t.http
    .post('/api/pricing')
    .set(admin)
    .send({ modelId: model, pricePer1kTokens: String(PRICED) })
    .expect(201);
  const user = await f.newUser({ credits: GRANTED });
  const from = new Date(Date.now() - 10 * 60_000).toISOString();
  const to = new Date(Date.now() + 10 * 60_000).toISOString();
  const meter = async () => {
    const res = await t.http
      .post('/api/usage/record')
      .set(admin)
      .send({ userId: user.id, service: 'chat', operation: 'completion', modelId: model, tokens: 1000 });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.credits).toBe(PRICED);
    return res.body.id as string;
  };
  const first: string[] = [];
  for (let i = 0; i < FEW; i++) first.push(await meter());
  await t.db.query(
    `INSERT INTO usage_records (user_id, service, operation, credits, model_id, tokens, credits_named, occurred_at, account_id)
     SELECT $1, 'chat', 'completion', 0, $2, 1000, true,
            (SELECT max(occurred_at) FROM usage_records WHERE id = ANY($4::uuid[])) + g * interval '1 microsecond', (SELECT account_id FROM accounts WHERE user_id = $1::varchar)
       FROM generate_series(1, $3::int) g`,
    [user.id, model, RERATE_CHUNK - FEW, first],
  );
  const second: string[] = [];
  for (let i = 0; i < FEW; i++) second.push(await meter());
  // The second chunk's records come after every record of the first.
  const { rows } = await t.db.query(
    `SELECT (SELECT count(*)::int FROM usage_records
              WHERE user_id = $1 AND occurred_at < (SELECT min(occurred_at) FROM usage_records WHERE id = ANY($2::uuid[])))
            AS before_second`,
    [user.id, second],
  );
  expect(rows[0].before_second).toBe(RERATE_CHUNK);
  const body = {
    rerateId: uniqueId('rrf'),
    from,
    to,
    userId: user.id,
    rules: [{ modelId: model, pricePer1kTokens: String(RERATED) }],
    reason: 'the rule had a typo',
  };
  return { user, first, second, body };
}

/** The backends waiting for a lock the backend `pid` holds. */
const waitingOn = async (db: pg.Pool, pid: number) =>
  (
    await db.query<{ pid: number; query: string }>(
      `SELECT pid, query FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`,
      [pid],
    )
  ).rows;

/**
 * Holds the re-rate `start` starts in its second chunk, with its first two corrections written, by
 * locking the chunk's third record; checks what is committed then, and calls `crash`.
 */
async function holdInSecondChunk(
  url: string,
  seeded: Seeded,
  start: () => Promise<string>,
  progress: (id: string) => Promise<Record<string, unknown>>,
  crash: (db: pg.Pool, lockPid: number) => Promise<void>,
): Promise<string> {
  const db = new pg.Pool({ connectionString: url, max: 4 });
  db.on('error', () => undefined);
  const lock = await db.connect();
  lock.on('error', () => undefined);
  try {
    await lock.query('BEGIN');
    await lock.query('SELECT 1 FROM usage_records WHERE id = $1 FOR UPDATE', [seeded.second[2]]);
    const lockPid = (await lock.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    const id = await start();
    // The chunk's corrections are one statement (CreditsService.correct(), whose records part,
    // usage_records_correct_begin(), locks them in id order first): it waits on the third record's lock.
    await untilLong('the second chunk waits for its third record', async () =>
      (await waitingOn(db, lockPid)).some((r) => /FROM usage_records_correct_begin\(/.test(r.query)),
    );
    // The first chunk is committed whole; the second's corrections so far are not visible.
    expect(await progress(id)).toMatchObject({ status: 'running', records: RERATE_CHUNK, corrected: FEW });
    expect(await correctedRecords(db, seeded)).toEqual(new Map(seeded.first.map((r) => [r, 1])));
    await crash(db, lockPid);
    return id;
  } finally {
    lock.release(true);
    await db.end().catch(() => undefined);
  }
}

/** Each record of the user with a correction of the re-rate, and how many it has. */
async function correctedRecords(db: pg.Pool, seeded: Seeded): Promise<Map<string, number>> {
  const { rows } = await db.query<{ record_id: string; n: number }>(
    `SELECT record_id, count(*)::int AS n FROM usage_corrections
      WHERE correction_id = $1 GROUP BY record_id ORDER BY min(created_at), record_id`,
    [`rerate:${seeded.body.rerateId as string}`],
  );
  return new Map(rows.map((r) => [r.record_id, r.n]));
}

/** What the cut left: the re-rate running at the first chunk's end, the first chunk's corrections only. */
async function expectCutAfterFirstChunk(t: TestApp, seeded: Seeded, id: string): Promise<void> {
  const left = await t.http.get(`/api/pricing/rerates/${id}`).set(admin).expect(200);
  expect(left.body).toMatchObject({ status: 'running', records: RERATE_CHUNK, corrected: FEW, lastError: null });
  expect(await correctedRecords(t.db, seeded)).toEqual(new Map(seeded.first.map((r) => [r, 1])));
}

/** Resumes the re-rate on `t` (the job's work, called directly) and checks it corrected each record once. */
async function resumeAndExpectExactlyOnce(t: TestApp, seeded: Seeded, id: string): Promise<void> {
  const runner = t.app.get(RerateRunner);
  await runner.resume();
  await runner.settled();
  let done: Record<string, unknown> = {};
  await untilLong('the re-rate completes', async () => {
    done = (await t.http.get(`/api/pricing/rerates/${id}`).set(admin).expect(200)).body as Record<string, unknown>;
    expect(done.status, JSON.stringify(done)).not.toBe('failed');
    return done.status === 'completed';
  });
  const delta = 2 * FEW * (RERATED - PRICED);
  expect(done).toMatchObject({ records: RERATE_CHUNK + FEW, corrected: 2 * FEW, delta, lastError: null });

  // Exactly one correction per changed record, from its net of 10 to 4; none on the named records.
  expect(await correctedRecords(t.db, seeded)).toEqual(new Map([...seeded.first, ...seeded.second].map((r) => [r, 1])));
  const { rows: corrections } = await t.db.query(
    `SELECT previous_credits, credits FROM usage_corrections WHERE correction_id = $1`,
    [`rerate:${seeded.body.rerateId as string}`],
  );
  expect(corrections).toEqual(Array.from({ length: 2 * FEW }, () => ({ previous_credits: PRICED, credits: RERATED })));

  // The balance moved by exactly the deltas, and it is the sum of the account's ledger.
  const { rows: balance } = await t.db.query(
    `SELECT (SELECT SUM(remaining_credits) FROM credit_allocations WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1::varchar))::int
              AS remaining,
            (SELECT SUM(amount) FROM credit_ledger WHERE account_id = (SELECT account_id FROM accounts WHERE user_id = $1::varchar))::int AS ledger`,
    [seeded.user.id],
  );
  const expected = GRANTED - 2 * FEW * PRICED - delta;
  expect(balance[0]).toEqual({ remaining: expected, ledger: expected });
  await expectInvariants(t, [seeded.user.id]);

  const { rows: events } = await t.db.query(
    `SELECT data FROM events WHERE type = 'pricing.rerate.completed' AND data->>'id' = $1`,
    [id],
  );
  expect(events).toEqual([
    {
      data: { id, rerateId: seeded.body.rerateId, records: RERATE_CHUNK + FEW, corrected: 2 * FEW, delta },
    },
  ]);
}

describe('kill -9 of the re-rating process', () => {
  let own: OwnDatabase;
  let t: TestApp;
  let service: ServiceProcess | null = null;
  const outDir = path.join(root, 'node_modules', '.cache', `e2e-rerates-build-${process.pid}`);

  beforeAll(async () => {
    own = await ownDatabase('reratekill');
    t = await startTestApp({ DATABASE_URL: own.url, JOBS_ENABLED: 'false' });
    await buildServer(outDir);
  }, 180_000);
  afterAll(async () => {
    if (service && service.child.exitCode === null) service.child.kill('SIGKILL');
    await t?.close();
    await own?.drop();
    await rm(outDir, { recursive: true, force: true });
  });

  it(
    'mid-chunk: another instance resumes at the cursor and corrects each record once',
    { timeout: 120_000 },
    async () => {
      const seeded = await seed(t);
      service = spawnService(path.join(outDir, 'src', 'main.js'), root, {
        NODE_ENV: 'test',
        DATABASE_URL: own.url,
        DB_MIGRATIONS_RUN: 'false',
        JWT_ACCESS_SECRET: TEST_JWT_SECRET,
        WEBHOOK_SECRET_KEY: 'rerates-kill-webhook-secret-0123456789abcdef',
        JOBS_ENABLED: 'false',
      });
      const base = `http://127.0.0.1:${await service.port}/api/pricing/rerates`;
      const headers = { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' };
      const id = await holdInSecondChunk(
        own.url,
        seeded,
        async () => {
          // Of every account (the database holds the user's records only): two lanes (RERATE_LANES), the
          // user's records in one of them, the other done in its first chunk before the cut.
          const everyone = { ...seeded.body, userId: undefined };
          const res = await fetch(base, { method: 'POST', headers, body: JSON.stringify(everyone) });
          expect(res.status).toBe(202);
          return ((await res.json()) as { id: string }).id;
        },
        async (id) => (await (await fetch(`${base}/${id}`, { headers })).json()) as Record<string, unknown>,
        async (db, lockPid) => {
          service!.child.kill('SIGKILL');
          await service!.exit;
          // The server has not noticed yet that the client is gone: the statement waiting for the lock
          // would run once it is free. Ending that backend is what the server does when it notices.
          await db.query(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`,
            [lockPid],
          );
          // The killed instance's lease goes with its connection.
          await untilLong(
            'the killed lease is gone',
            async () =>
              (
                await db.query(
                  `SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'accounting-pricing-rerates%'`,
                )
              ).rowCount === 0,
          );
        },
      );
      await expectCutAfterFirstChunk(t, seeded, id);
      const { rows: lanes } = await t.db.query(
        `SELECT count(*)::int AS lanes, count(*) FILTER (WHERE done)::int AS done FROM pricing_rerate_lanes WHERE rerate_id = $1`,
        [id],
      );
      expect(lanes[0]).toEqual({ lanes: 2, done: 1 });
      await resumeAndExpectExactlyOnce(t, seeded, id);
    },
  );
});

const restartTitle = pgBinariesAvailable
  ? 'a PostgreSQL restart during a re-rate'
  : 'a PostgreSQL restart during a re-rate (skipped: no PostgreSQL server binaries initdb/pg_ctl under PG_BIN)';

describe.skipIf(!pgBinariesAvailable)(restartTitle, () => {
  let server: ThrowawayServer;
  let t: TestApp;

  beforeAll(async () => {
    server = await ThrowawayServer.start();
    const url = server.url();
    await migrate(url);
    t = await startTestApp({ DATABASE_URL: url, JOBS_ENABLED: 'false' });
    // The restart ends the spec's own idle connections too.
    t.db.on('error', () => undefined);
  }, 180_000);
  afterAll(async () => {
    await t?.close();
    await server?.stop();
  });

  it(
    'mid-chunk: the re-rate stays running and resumes at its cursor, each record once',
    { timeout: 120_000 },
    async () => {
      const seeded = await seed(t);
      const id = await holdInSecondChunk(
        server.url(),
        seeded,
        async () => {
          const res = await t.http.post('/api/pricing/rerates').set(admin).send(seeded.body);
          expect(res.status, JSON.stringify(res.body)).toBe(202);
          return res.body.id as string;
        },
        async (id) => (await t.http.get(`/api/pricing/rerates/${id}`).set(admin)).body as Record<string, unknown>,
        () => server.restart(),
      );
      await untilLong('the database answers again', async () => (await t.http.get('/api/health/ready')).status === 200);
      // The cut run ended here (a lost connection leaves the re-rate running, for the job to resume).
      await t.app.get(RerateRunner).settled();
      await expectCutAfterFirstChunk(t, seeded, id);
      await resumeAndExpectExactlyOnce(t, seeded, id);
    },
  );
});
