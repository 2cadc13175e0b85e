import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, TEST_JWT_SECRET, type TestApp } from './support/app.js';
import { buildServer } from './support/build-server.js';
import { Fixtures, tokenFor } from './support/fixtures.js';
import { migrate, type OwnDatabase, ownDatabase } from './support/own-database.js';
import { expectEveryRowOnce, waitForRuns } from './support/parquet-checks.js';
import { pgBinariesAvailable, ThrowawayServer } from './support/pg-cluster.js';
import { type ServiceProcess, spawnService } from './support/service-process.js';
import { until } from './support/until.js';

// A run stopped at its most delicate point: a part's files renamed into place, its watermark not yet
// moved. The lock dance below holds it exactly there: the ledger locked so the run waits before
// reading it (usage records done), then the parts table locked so it waits to mark the ledger part
// done, and the ledger released. Nothing here waits for time: it waits for the run to wait.
const adminToken = tokenFor('admin', 'exports-faults-admin');
const admin = bearer(adminToken);
const root = fileURLToPath(new URL('..', import.meta.url));
const RUN_CONNECTION = 'accounting-parquet-exports';

/** `until()` with the bound a killed process or a stopped server needs: 150 s. */
const untilLong = (what: string, check: () => Promise<boolean>) => until(what, check, 150_000, 25);

const runWaitsOnLock = (db: pg.Pool, statement: RegExp) => async () => {
  const { rows } = await db.query<{ query: string }>(
    `SELECT query FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name LIKE $1`,
    [`${RUN_CONNECTION}%`],
  );
  const pooled = await db.query<{ query: string }>(
    `SELECT query FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ~ $1`,
    [statement.source],
  );
  return [...rows, ...pooled.rows].some((r) => statement.test(r.query));
};

async function ledgerFiles(dir: string, runId: string): Promise<string[]> {
  const base = path.join(dir, 'ledger_entries');
  if (!existsSync(base)) return [];
  const days = await readdir(base);
  return days.flatMap((d) =>
    existsSync(path.join(base, d, `${runId}-ledger_entries.parquet`)) ? [`${d}/${runId}-ledger_entries.parquet`] : [],
  );
}

/** Holds the run started by `start` with its ledger files renamed and its ledger part not yet done, then calls `crash`. */
async function stopBetweenRenameAndWatermark(
  url: string,
  dir: string,
  start: () => Promise<string>,
  crash: (db: pg.Pool) => Promise<void>,
): Promise<string> {
  const db = new pg.Pool({ connectionString: url, max: 4 });
  db.on('error', () => undefined);
  const ledgerLock = await db.connect();
  const partsLock = await db.connect();
  ledgerLock.on('error', () => undefined);
  partsLock.on('error', () => undefined);
  try {
    await ledgerLock.query('BEGIN');
    await ledgerLock.query('LOCK TABLE credit_ledger IN ACCESS EXCLUSIVE MODE');
    const runId = await start();
    await untilLong('the run waits to read the ledger', runWaitsOnLock(db, /export_rows|credit_ledger/));
    await partsLock.query('BEGIN');
    await partsLock.query('LOCK TABLE export_parts IN SHARE MODE');
    await ledgerLock.query('COMMIT');
    await untilLong('the run waits to mark the ledger part done', async () => {
      const files = await ledgerFiles(dir, runId);
      return files.length > 0 && (await runWaitsOnLock(db, /UPDATE export_parts/)());
    });
    await crash(db);
    return runId;
  } finally {
    ledgerLock.release(true);
    partsLock.release(true);
    await db.end().catch(() => undefined);
  }
}

async function seed(t: TestApp, records: number) {
  const f = new Fixtures(t);
  const u = await f.newUser();
  expect((await f.allocate(u.id, { credits: 5000, value: { amount: '50.00', currency: 'eur' } })).status).toBe(201);
  for (let i = 0; i < records; i++) expect((await f.recordUsage(u, 2 + (i % 3))).status).toBe(201);
}

async function runToCompletion(t: TestApp) {
  const res = await t.http.post('/api/exports/run').set(admin).send();
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const [run] = await waitForRuns(t, [res.body.id as string]);
  expect(run.status, JSON.stringify(run)).toBe('completed');
  return run;
}

/** The part writers (src/exports/part-writer.child.ts) whose parent is `parent`. */
function partWriters(parent: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^[0-9]+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return Number(stat[1]) === parent && cmdline.includes('part-writer.child');
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Whether `pid` still runs (a process that ended but is not reaped yet does not). */
function running(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0] !== 'Z';
  } catch {
    return false;
  }
}

describe('kill -9 of the exporting process', () => {
  let own: OwnDatabase;
  let dir: string;
  let t: TestApp;
  let service: ServiceProcess | null = null;
  const outDir = path.join(root, 'node_modules', '.cache', `e2e-exports-build-${process.pid}`);

  beforeAll(async () => {
    own = await ownDatabase('exportkill');
    dir = await mkdtemp(path.join(tmpdir(), 'accounting-exports-kill-'));
    t = await startTestApp({ DATABASE_URL: own.url, EXPORT_DIR: dir, JOBS_ENABLED: 'false' });
    await buildServer(outDir);
    // tsc on a machine whose cores are shared may take minutes.
  }, 600_000);
  afterAll(async () => {
    if (service && service.child.exitCode === null) service.child.kill('SIGKILL');
    await t?.close();
    await own?.drop();
    await rm(dir, { recursive: true, force: true });
    await rm(outDir, { recursive: true, force: true });
  });

  /** The built service on the spec's database and EXPORT_DIR, to be killed. */
  const exporter = () =>
    spawnService(path.join(outDir, 'src', 'main.js'), root, {
      NODE_ENV: 'test',
      DATABASE_URL: own.url,
      DB_MIGRATIONS_RUN: 'false',
      JWT_ACCESS_SECRET: TEST_JWT_SECRET,
      WEBHOOK_SECRET_KEY: 'exports-kill-webhook-secret-0123456789abcdef',
      EXPORT_DIR: dir,
      JOBS_ENABLED: 'false',
    });

  it(
    'between renaming a part’s files and moving its watermark: the next runs still hold every row once',
    { timeout: 300_000 },
    async () => {
      await seed(t, 10);
      await runToCompletion(t);
      await seed(t, 10);
      service = exporter();
      const port = await service.port;
      const runId = await stopBetweenRenameAndWatermark(
        own.url,
        dir,
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/api/exports/run`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${adminToken}` },
          });
          expect(res.status).toBe(202);
          return ((await res.json()) as { id: string }).id;
        },
        async (db) => {
          service!.child.kill('SIGKILL');
          await service!.exit;
          // The server has not noticed yet that its client is gone: the statement waiting for the lock
          // would run once it is free. Ending those backends is what the server does when it notices.
          await db.query(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE pid <> pg_backend_pid() AND wait_event_type = 'Lock' AND query ~ 'UPDATE export_parts'`,
          );
        },
      );
      // What the kill left: the ledger part still `writing`, its files already in place.
      const pending = await own.db.query(`SELECT export_id FROM export_parts WHERE status = 'writing'`);
      expect(pending.rows).toEqual([{ export_id: `${runId}-ledger_entries` }]);
      expect((await ledgerFiles(dir, runId)).length).toBeGreaterThan(0);

      await runToCompletion(t);
      await seed(t, 3);
      await runToCompletion(t);
      expect(await expectEveryRowOnce(own.db, dir)).toBeGreaterThan(40);
      const killed = await own.db.query(`SELECT status FROM export_runs WHERE id = $1`, [runId]);
      expect(killed.rows[0].status).toBe('failed');
    },
  );

  it(
    'while a part writer reads its rows: the writer ends with the process, the next runs hold every row once',
    { timeout: 300_000 },
    async () => {
      await seed(t, 5);
      service = exporter();
      const port = await service.port;
      const parent = service.child.pid!;
      const db = new pg.Pool({ connectionString: own.url, max: 3 });
      db.on('error', () => undefined);
      const ledgerLock = await db.connect();
      ledgerLock.on('error', () => undefined);
      try {
        await ledgerLock.query('BEGIN');
        await ledgerLock.query('LOCK TABLE credit_ledger IN ACCESS EXCLUSIVE MODE');
        const res = await fetch(`http://127.0.0.1:${port}/api/exports/run`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${adminToken}` },
        });
        expect(res.status).toBe(202);
        await untilLong('the part writer waits to read the ledger', runWaitsOnLock(db, /credit_ledger/));
        const writers = partWriters(parent);
        expect(writers).toHaveLength(1);
        service.child.kill('SIGKILL');
        await service.exit;
        await untilLong('the part writer has ended with its process', async () => !running(writers[0]));
      } finally {
        await ledgerLock.query('ROLLBACK').catch(() => undefined);
        ledgerLock.release(true);
        await db.end().catch(() => undefined);
      }
      // A killed run's session that waited on the ledger lock notices its client is gone only once the
      // lock is free and it answers: until then it holds the lease, and a run started now is refused.
      await untilLong('the killed run has let its lease go', async () => {
        const { rows } = await own.db.query(`SELECT 1 FROM pg_stat_activity WHERE application_name LIKE $1`, [
          `${RUN_CONNECTION}%`,
        ]);
        return rows.length === 0;
      });
      await runToCompletion(t);
      await seed(t, 2);
      await runToCompletion(t);
      expect(await expectEveryRowOnce(own.db, dir)).toBeGreaterThan(40);
    },
  );
});

describe.skipIf(!pgBinariesAvailable)('a PostgreSQL restart during a run', () => {
  let server: ThrowawayServer;
  let dir: string;
  let t: TestApp;

  beforeAll(async () => {
    server = await ThrowawayServer.start();
    const url = server.url();
    await migrate(url);
    dir = await mkdtemp(path.join(tmpdir(), 'accounting-exports-restart-'));
    t = await startTestApp({ DATABASE_URL: url, EXPORT_DIR: dir, JOBS_ENABLED: 'false' });
    // The restart ends the spec's own idle connections too.
    t.db.on('error', () => undefined);
  }, 180_000);
  afterAll(async () => {
    await t?.close();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it(
    'between renaming a part’s files and moving its watermark: the run fails, the next ones hold every row once',
    { timeout: 300_000 },
    async () => {
      await seed(t, 10);
      const runId = await stopBetweenRenameAndWatermark(
        server.url(),
        dir,
        async () => {
          const res = await t.http.post('/api/exports/run').set(admin).send();
          expect(res.status, JSON.stringify(res.body)).toBe(202);
          return res.body.id as string;
        },
        () => server.restart(),
      );
      const db = new pg.Pool({ connectionString: server.url(), max: 2 });
      db.on('error', () => undefined);
      try {
        // The cut run could not record its end (the database was gone); the part it left is `writing`.
        await untilLong(
          'the database answers again',
          async () => (await t.http.get('/api/health/ready')).status === 200,
        );
        expect((await db.query(`SELECT export_id FROM export_parts WHERE status = 'writing'`)).rows).toEqual([
          { export_id: `${runId}-ledger_entries` },
        ]);
        await runToCompletion(t);
        const cut = await db.query(`SELECT status FROM export_runs WHERE id = $1`, [runId]);
        expect(cut.rows[0].status).toBe('failed');
        await seed(t, 3);
        await runToCompletion(t);
        expect(await expectEveryRowOnce(db, dir)).toBeGreaterThan(20);
      } finally {
        await db.end();
      }
    },
  );
});
