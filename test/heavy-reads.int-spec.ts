import { existsSync, readFileSync } from 'node:fs';

import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';

import { DomainError } from '../src/common/errors/domain-error.js';
import type { AppConfig } from '../src/config/app-config.js';
import { HeavyReads } from '../src/database/heavy-reads.js';

/**
 * The heavy reads' gate (src/database/heavy-reads.ts, docs/operations.md "Heavy reads") on real
 * PostgreSQL: how many at once, the deadline enforced by the database itself, and where they run.
 */
describe('heavy reads: the gate', () => {
  const url = inject('databaseUrl');
  let watcher: pg.Pool;
  const gates: HeavyReads[] = [];

  const gate = (
    heavyReads: Omit<AppConfig['heavyReads'], 'parallelWorkers' | 'nice'> & Partial<AppConfig['heavyReads']>,
    readUrl: string | null = null,
  ): HeavyReads => {
    const config = {
      database: { url, readUrl, statementTimeoutMs: 15_000, lockTimeoutMs: 10_000, idleInTransactionTimeoutMs: 30_000 },
      heavyReads: { parallelWorkers: 0, nice: 0, ...heavyReads },
    } as unknown as AppConfig;
    const made = new HeavyReads(config);
    gates.push(made);
    return made;
  };
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a refusal');
      },
      (error: unknown) => error as DomainError,
    );

  beforeAll(() => {
    watcher = new pg.Pool({ connectionString: url, max: 1 });
  });
  afterEach(async () => {
    for (const g of gates.splice(0)) await g.onApplicationShutdown();
  });
  afterAll(() => watcher?.end());

  it('past HEAVY_READ_TIMEOUT_SECONDS the database cancels the statement: 503 TIMEOUT', async () => {
    const heavy = gate({ concurrency: 2, timeoutSeconds: 1 });
    const started = Date.now();
    const error = await refusal(heavy.run((db) => db.query(`SELECT pg_sleep(30), 'heavy-read-timeout-probe'`)));
    expect(error).toBeInstanceOf(DomainError);
    expect([error.code, error.status]).toEqual(['TIMEOUT', 503]);
    expect(Date.now() - started).toBeLessThan(10_000);
    // Nothing runs on in the database after its caller was answered.
    const { rows } = await watcher.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE state = 'active' AND query LIKE '%heavy-read-timeout-probe%' AND pid <> pg_backend_pid()`,
    );
    expect(rows[0].n).toBe(0);
    expect(heavy.stats().running).toBe(0);
  });

  it('one more than HEAVY_READS_CONCURRENCY → 429 HEAVY_READS_BUSY with retryAfter; a place frees when one ends', async () => {
    const heavy = gate({ concurrency: 2, timeoutSeconds: 60 });
    const first = await heavy.open();
    const second = await heavy.open();
    let ran = false;
    const error = await refusal(heavy.run(async () => (ran = true)));
    expect([error.code, error.status, error.details.retryAfter]).toEqual(['HEAVY_READS_BUSY', 429, 5]);
    expect(ran).toBe(false);
    await first.release();
    await first.release(); // twice is harmless
    expect(await heavy.run((db) => db.query<{ one: number }>('SELECT 1 AS one'))).toEqual([{ one: 1 }]);
    await second.release();
    // A failing read gives its place back too.
    await expect(heavy.run((db) => db.query('SELECT 1/0'))).rejects.toThrow(/division by zero/);
    expect(heavy.stats()).toEqual({ running: 0, max: 2 });
  });

  it('runs read-only, on connections of its own, on DB_READ_URL when set', async () => {
    const replica = new URL(url);
    replica.pathname = '/postgres';
    const heavy = gate({ concurrency: 1, timeoutSeconds: 60 }, replica.toString());
    const [row] = await heavy.run((db) =>
      db.query<{ database: string; name: string; readOnly: string }>(
        `SELECT current_database() AS database, current_setting('application_name') AS name,
                current_setting('transaction_read_only') AS "readOnly"`,
      ),
    );
    expect(row).toEqual({ database: 'postgres', name: 'accounting-heavy-reads', readOnly: 'on' });
    const primary = gate({ concurrency: 1, timeoutSeconds: 60 });
    const [own] = await primary.run((db) => db.query<{ database: string }>(`SELECT current_database() AS database`));
    expect(own.database).toBe(new URL(url).pathname.slice(1));
  });

  it('runs each statement on one core unless HEAVY_READS_PARALLEL_WORKERS allows parallel workers', async () => {
    const setting = (heavy: HeavyReads) =>
      heavy.run((db) =>
        db.query<{ workers: string }>(`SELECT current_setting('max_parallel_workers_per_gather') AS workers`),
      );
    expect(await setting(gate({ concurrency: 1, timeoutSeconds: 60 }))).toEqual([{ workers: '0' }]);
    expect(await setting(gate({ concurrency: 1, timeoutSeconds: 60, parallelWorkers: 2 }))).toEqual([{ workers: '2' }]);
  });

  it('lowers its database process to HEAVY_READS_NICE where PostgreSQL runs on this machine', async () => {
    // The nice value of a process: the 19th field of /proc/<pid>/stat (after the parenthesised name).
    const niceOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[16]);
    const backend = (heavy: HeavyReads) =>
      heavy.run(async (db) => (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0].pid);
    const local = new URL(url).hostname === '127.0.0.1' || new URL(url).hostname === 'localhost';
    if (!local || !existsSync('/proc/self/stat')) return;
    const lowered = gate({ concurrency: 1, timeoutSeconds: 60, nice: 19 });
    const pid = await backend(lowered);
    expect(niceOf(pid)).toBe(19);
    // The pool's connection is lent again as it is, still lowered.
    expect(await backend(lowered)).toBe(pid);
    expect(niceOf(pid)).toBe(19);
    // 0 leaves the process at the server's own priority.
    expect(niceOf(await backend(gate({ concurrency: 1, timeoutSeconds: 60, nice: 0 })))).toBe(0);
  });

  it('renew() ends the snapshot and takes a new one: a row committed meanwhile is seen after it', async () => {
    const heavy = gate({ concurrency: 1, timeoutSeconds: 60 });
    // In a schema of its own: public's tables are the service's (test/scale-doc.int-spec.ts lists them).
    await watcher.query('CREATE SCHEMA IF NOT EXISTS heavy_reads_test');
    await watcher.query('CREATE TABLE IF NOT EXISTS heavy_reads_test.renew_probe (n int)');
    const seen = await heavy.run(async (db) => {
      const count = async () =>
        (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM heavy_reads_test.renew_probe'))[0].n;
      const before = await count();
      await watcher.query('INSERT INTO heavy_reads_test.renew_probe VALUES (1)');
      const same = await count();
      await db.renew();
      return { before, same, after: await count() };
    });
    expect(seen.same).toBe(seen.before);
    expect(seen.after).toBe(seen.before + 1);
    await watcher.query('DROP TABLE heavy_reads_test.renew_probe');
  });
});
