import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { bearer, startTestApp, type TestApp } from './support/app.js';
import { tokenFor } from './support/fixtures.js';
import { type OwnDatabase, ownDatabase } from './support/own-database.js';
import { waitForRuns } from './support/parquet-checks.js';
import { until } from './support/until.js';

const admin = bearer(tokenFor('admin', 'exports-atomic-admin'));

/**
 * `POST /api/exports/run` writes its run, its idempotency key and its `export.run` audit entry in one
 * transaction, and the run starts writing files only once that has committed. The fault: the audit
 * table locked, so the request waits inside its transaction, then its connection ended by the server
 * (as when the instance dies: the transaction is lost). Afterwards there is no run of it, no key and
 * no entry, nothing holds the export lease, and a retry with the same key starts one run, audited,
 * that completes. A database of its own: runs and leases are database-wide.
 */
describe('POST /api/exports/run: the run, its key and its audit entry commit together', () => {
  let own: OwnDatabase;
  let dir: string;
  let t: TestApp;

  beforeAll(async () => {
    own = await ownDatabase('exportatomic');
    dir = await mkdtemp(path.join(tmpdir(), 'accounting-exports-atomic-'));
    t = await startTestApp({ DATABASE_URL: own.url, EXPORT_DIR: dir, JOBS_ENABLED: 'false' });
  });
  afterAll(async () => {
    await t?.close();
    await own?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const counts = async () =>
    (
      await own.db.query<{ runs: number; audited: number; keys: number }>(
        `SELECT (SELECT count(*)::int FROM export_runs) AS runs,
                (SELECT count(*)::int FROM audit_log WHERE action = 'export.run') AS audited,
                (SELECT count(*)::int FROM idempotency_keys WHERE path = '/api/exports/run') AS keys`,
      )
    ).rows[0];

  it('a request whose transaction is lost leaves nothing; its retry runs once', async () => {
    const key = 'export-atomic-1';
    const lock = await own.db.connect();
    let first: Promise<{ status: number }>;
    try {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE audit_log IN ACCESS EXCLUSIVE MODE');
      first = t.http
        .post('/api/exports/run')
        .set(admin)
        .set('Idempotency-Key', key)
        .send()
        .then((r) => r);
      await until('the request waits on the audit table', async () => {
        const { rows } = await own.db.query(
          `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ~ 'INSERT INTO "?audit_log'`,
        );
        return rows.length > 0;
      });
      // The instance's end, seen from the database: its connection goes, its transaction with it.
      await own.db.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE pid <> pg_backend_pid() AND wait_event_type = 'Lock' AND query ~ 'INSERT INTO "?audit_log'`,
      );
      expect((await first).status).toBeGreaterThanOrEqual(500);
    } finally {
      await lock.query('ROLLBACK').catch(() => undefined);
      lock.release();
    }
    expect(await counts()).toEqual({ runs: 0, audited: 0, keys: 0 });

    const retry = await t.http.post('/api/exports/run').set(admin).set('Idempotency-Key', key).send().expect(202);
    const [run] = await waitForRuns(t, [retry.body.id as string]);
    expect(run.status).toBe('completed');
    expect(await counts()).toEqual({ runs: 1, audited: 1, keys: 1 });
    const entry = await own.db.query(`SELECT target_id FROM audit_log WHERE action = 'export.run'`);
    expect(entry.rows).toEqual([{ target_id: retry.body.id }]);
    const again = await t.http.post('/api/exports/run').set(admin).set('Idempotency-Key', key).send().expect(202);
    expect(again.body.id).toBe(retry.body.id);
    expect(await counts()).toEqual({ runs: 1, audited: 1, keys: 1 });
  });
});
