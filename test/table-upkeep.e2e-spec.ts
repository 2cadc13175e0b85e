import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TableUpkeepJob } from '../src/health/table-upkeep.job.js';
import { bearer, servicePool, startTestApp, type TestApp, token } from './support/app.js';
import { Fixtures } from './support/fixtures.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';

const METRICS_TOKEN = 'upkeep-metrics-token-0123456789abcdef';

/**
 * The service's own table upkeep (TABLE_UPKEEP): where nothing else vacuums and analyzes, the job does
 * it by autovacuum's rule. A database of its own, so the statistics read are this spec's writes only;
 * jobs off, so every pass is one the spec runs; and the server's autovacuum off for its tables
 * (`autovacuum_enabled = off`, which the job's rule does not read), so no pass races the server's
 * daemon for a table the spec made due. Records go through HTTP; a session's statistics reach
 * PostgreSQL's shared counters at most once a second, else only after 10 s idle, so the spec has
 * every session that wrote publish them at once (`publishStats()`) before it reads them.
 */
describe('table upkeep', () => {
  let own: OwnDatabase;
  const apps: Record<'always' | 'auto' | 'off', TestApp> = {} as never;

  beforeAll(async () => {
    own = await ownDatabase('table_upkeep');
    await own.db.query(`DO $$
      DECLARE t regclass;
      BEGIN
        FOR t IN SELECT c.oid FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' LOOP
          EXECUTE format('ALTER TABLE %s SET (autovacuum_enabled = off)', t);
        END LOOP;
      END $$`);
    for (const mode of ['always', 'auto', 'off'] as const) {
      apps[mode] = await startTestApp({
        DATABASE_URL: own.url,
        JOBS_ENABLED: 'false',
        TABLE_UPKEEP: mode,
        METRICS_TOKEN,
      });
    }
  });
  afterAll(async () => {
    for (const app of Object.values(apps)) await app?.close();
    await own?.drop();
  });

  const job = (mode: keyof typeof apps) => apps[mode].app.get(TableUpkeepJob);
  const stats = async (table: string) =>
    (
      await apps.always.db.query(
        `SELECT n_tup_ins::int AS inserted, n_ins_since_vacuum::int AS "sinceVacuum",
                vacuum_count::int AS vacuums, analyze_count::int AS analyzes
           FROM pg_stat_user_tables WHERE relname = $1`,
        [table],
      )
    ).rows[0] as { inserted: number; sinceVacuum: number; vacuums: number; analyzes: number };
  /**
   * `pg_stat_force_next_flush()` in each of the pool's sessions: a session publishes its pending
   * statistics before it answers that it is ready for the next query, so they are read once this
   * returns. Every idle session is checked out at once (the pool hands out its idle ones first), so
   * each is asked once; a session the app holds (none here: its jobs are off) did none of the writes.
   */
  async function publishStats(pool: Pool): Promise<void> {
    const clients = await Promise.all(Array.from({ length: pool.idleCount }, () => pool.connect()));
    try {
      await Promise.all(clients.map((c) => c.query('SELECT pg_stat_force_next_flush()')));
    } finally {
      for (const c of clients) c.release();
    }
  }
  const meter = bearer(token({ sub: 'upkeep-meter', role: 'admin' }));

  let batches = 0;
  /**
   * 2,400 records in four batches: 2,400 rows inserted into usage_records and the ledger each (past
   * 1,000 + 0.2 × the rows of the cases before), none
   * vacuumed or analyzed yet (counters PostgreSQL keeps exactly; dead versions are not, as pruning
   * removes some as it goes).
   */
  async function churn(): Promise<void> {
    const t = apps.always;
    const user = await new Fixtures(t).newUser({ credits: 1_000_000 });
    const before = (await stats('usage_records')).inserted;
    for (let b = 0; b < 4; b++) {
      const batch = ++batches;
      const events = Array.from({ length: 600 }, (_, i) => ({
        eventId: `upkeep-${batch}-${i}`,
        userId: user.id,
        service: 'chat',
        operation: 'c',
        credits: 1,
      }));
      await t.http.post('/api/usage/records/batch').set(meter).send({ events }).expect(200);
    }
    await publishStats(servicePool(t));
    expect((await stats('usage_records')).inserted).toBe(before + 2_400);
  }

  it('off leaves the tables to the server; always vacuums and analyzes what is past the thresholds', async () => {
    await churn();
    await own.db.query(`CREATE TABLE upkeep_probe (n int) WITH (autovacuum_enabled = off)`);
    await own.db.query(`INSERT INTO upkeep_probe SELECT generate_series(1, 100)`);
    await publishStats(own.db);
    expect((await stats('upkeep_probe'))?.inserted).toBe(100);
    expect(await job('off').run()).toEqual({ vacuumed: [], analyzed: [] });
    expect(await stats('usage_records')).toMatchObject({ vacuums: 0, analyzes: 0 });

    const pass = await job('always').run();
    // 2,400 rows inserted into tables never vacuumed: past 1,000 + 0.2 × their rows.
    expect(pass.vacuumed).toEqual(expect.arrayContaining(['public.credit_ledger', 'public.usage_records']));
    expect(await stats('usage_records')).toMatchObject({ sinceVacuum: 0, vacuums: 1, analyzes: 1 });
    // A table of 100 rows never analyzed (made here, so no daemon has seen it): past the analyze
    // threshold (50 + 0.1 × rows) only, not the insert vacuum's (1,000 + 0.2 × rows).
    expect(pass.analyzed).toContain('public.upkeep_probe');
    expect(pass.vacuumed).not.toContain('public.upkeep_probe');
    expect(await stats('upkeep_probe')).toMatchObject({ vacuums: 0, analyzes: 1 });

    // Nothing has changed since: the next pass finds nothing due.
    expect(await job('always').run()).toEqual({ vacuumed: [], analyzed: [] });
  });

  it("reads a table's own thresholds where it sets them, as autovacuum does", async () => {
    // Two tables never vacuumed nor analyzed, each due by the server's thresholds: 2,000 rows past the
    // insert vacuum's (1,000) in one that sets no vacuum for inserts, so it is only analyzed; 100 rows
    // past the analyze one (50) in one that sets its own (5,000), so it is not taken.
    await own.db.query(
      `CREATE TABLE upkeep_inserts (n int) WITH (autovacuum_enabled = off, autovacuum_vacuum_insert_threshold = -1)`,
    );
    await own.db.query(
      `CREATE TABLE upkeep_own_analyze (n int) WITH (autovacuum_enabled = off, autovacuum_analyze_threshold = 5000)`,
    );
    await own.db.query(`INSERT INTO upkeep_inserts SELECT generate_series(1, 2000)`);
    await own.db.query(`INSERT INTO upkeep_own_analyze SELECT generate_series(1, 100)`);
    await publishStats(own.db);
    expect((await stats('upkeep_inserts'))?.inserted).toBe(2_000);
    expect((await stats('upkeep_own_analyze'))?.inserted).toBe(100);

    const pass = await job('always').run();
    expect(pass.vacuumed).not.toContain('public.upkeep_inserts');
    expect(pass.analyzed).toContain('public.upkeep_inserts');
    expect([...pass.vacuumed, ...pass.analyzed]).not.toContain('public.upkeep_own_analyze');
    expect(await stats('upkeep_inserts')).toMatchObject({ vacuums: 0, analyzes: 1 });
    expect(await stats('upkeep_own_analyze')).toMatchObject({ vacuums: 0, analyzes: 0 });

    // The tables of keys, 2,000 rows each past the insert vacuum's threshold: the stored answers' table
    // is analyzed, never vacuumed for them; the event ids' is vacuumed as before. Each is analyzed for
    // created_at alone.
    await own.db.query(
      `INSERT INTO idempotency_keys (principal, key, fingerprint, method, path, status_code, response_body)
       SELECT 'user:upkeep', 'upkeep-' || n, repeat('0', 64), 'POST', '/api/usage/record', 201, '{}'
         FROM generate_series(1, 2000) n`,
    );
    await own.db.query(
      `INSERT INTO usage_event_ids (owner, event_id, usage_record_id)
       SELECT 'upkeep', 'upkeep-' || n, gen_random_uuid() FROM generate_series(1, 2000) n`,
    );
    await publishStats(own.db);
    const keys = await stats('idempotency_keys');
    const events = await stats('usage_event_ids');
    expect(keys.sinceVacuum).toBeGreaterThanOrEqual(2_000);
    const keysPass = await job('always').run();
    expect(keysPass.vacuumed).not.toContain('public.idempotency_keys');
    expect(keysPass.analyzed).toContain('public.idempotency_keys');
    expect(keysPass.vacuumed).toContain('public.usage_event_ids');
    expect(await stats('idempotency_keys')).toMatchObject({ vacuums: keys.vacuums, analyzes: keys.analyzes + 1 });
    expect(await stats('usage_event_ids')).toMatchObject({ vacuums: events.vacuums + 1 });
    const { rows } = await own.db.query(
      `SELECT tablename, array_agg(attname::text ORDER BY attname) AS columns FROM pg_stats
        WHERE tablename IN ('idempotency_keys', 'usage_event_ids') GROUP BY tablename ORDER BY tablename`,
    );
    expect(rows).toEqual([
      { tablename: 'idempotency_keys', columns: ['created_at'] },
      { tablename: 'usage_event_ids', columns: ['created_at'] },
    ]);
  });

  it('auto acts exactly when the server runs without autovacuum', async () => {
    await churn();
    const { rows } = await apps.auto.db.query(`SELECT current_setting('autovacuum')::boolean AS on`);
    const pass = await job('auto').run();
    if (rows[0].on) expect(pass).toEqual({ vacuumed: [], analyzed: [] });
    else expect(pass.vacuumed).toContain('public.usage_records');
  });

  it('one instance at a time: a pass finds another holding the upkeep and leaves the tables to it', async () => {
    await churn();
    const client = await apps.off.db.connect();
    try {
      await client.query(`SELECT pg_advisory_lock(hashtextextended('table-upkeep', 0))`);
      expect(await job('always').run()).toEqual({ vacuumed: [], analyzed: [] });
      await client.query(`SELECT pg_advisory_unlock(hashtextextended('table-upkeep', 0))`);
    } finally {
      client.release();
    }
    expect((await job('always').run()).vacuumed).toContain('public.usage_records');
  });

  it('reports its runs like every job', async () => {
    await job('always').tick();
    const text = (await apps.always.http.get('/metrics').set(bearer(METRICS_TOKEN)).expect(200)).text;
    expect(text).toMatch(/^accounting_job_runs_total\{job="table-upkeep",result="success"\} 1$/m);
    expect(text).toMatch(/^accounting_job_last_success_timestamp_seconds\{job="table-upkeep"\} \d/m);
  });
});
