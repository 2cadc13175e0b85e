import pg from 'pg';
import { DataSource, QueryFailedError } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { connectionProblem } from '../src/common/errors/connection-errors.js';
import { PoolStatementManager } from '../src/database/pool-statements.js';
import { preparedName, queryPrepared } from '../src/database/statement-parts.js';

/**
 * PoolStatementManager (the manager of self-contained statements on the hot routes) answers what
 * TypeORM's `dataSource.query` answers, fails as it fails, and never lends a broken connection again.
 */
describe('statements straight on the pool', () => {
  let dataSource: DataSource;
  let pooled: PoolStatementManager;
  let admin: pg.Pool;
  // In a schema of its own: public's tables are the service's (test/scale-doc.int-spec.ts lists them).
  const table = `pool_statements_test.rows_${process.pid}`;

  beforeAll(async () => {
    // One connection: a statement that follows another gets the same one unless it was discarded.
    dataSource = new DataSource({ type: 'postgres', url: inject('databaseUrl'), poolSize: 1 });
    await dataSource.initialize();
    pooled = new PoolStatementManager(dataSource);
    admin = new pg.Pool({ connectionString: inject('databaseUrl'), max: 1 });
    await admin.query(`CREATE SCHEMA IF NOT EXISTS pool_statements_test`);
    await admin.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text)`);
  });
  afterAll(async () => {
    await admin?.query(`DROP TABLE IF EXISTS ${table}`);
    await admin?.end();
    await dataSource?.destroy();
  });

  const both = async (sql: string, params?: unknown[]) => {
    const viaTypeorm = await dataSource.query(sql, params);
    const viaPool = await pooled.query(sql, params);
    return { viaTypeorm, viaPool };
  };

  it('answers in the shape TypeORM answers: rows, or [rows, count] for UPDATE and DELETE', async () => {
    await pooled.query(`INSERT INTO ${table} VALUES (1, 'a'), (2, 'b'), (3, 'c')`);
    const select = await both(`SELECT id, v FROM ${table} WHERE id <= $1 ORDER BY id`, [2]);
    expect(select.viaPool).toEqual([
      { id: 1, v: 'a' },
      { id: 2, v: 'b' },
    ]);
    expect(select.viaPool).toEqual(select.viaTypeorm);

    const update = await both(`UPDATE ${table} SET v = v || 'x' WHERE id >= $1 RETURNING id`, [2]);
    expect(update.viaPool).toEqual([expect.arrayContaining([{ id: 2 }, { id: 3 }]), 2]);
    expect(update.viaTypeorm).toEqual([expect.arrayContaining([{ id: 2 }, { id: 3 }]), 2]);

    const insert = await pooled.query(`INSERT INTO ${table} VALUES (4, 'd') RETURNING v`);
    expect(insert).toEqual([{ v: 'd' }]);
    const deleted = await pooled.query(`DELETE FROM ${table} WHERE id = 4`);
    expect(deleted).toEqual([[], 1]);
    const { rows } = await admin.query(`SELECT v FROM ${table} ORDER BY id`);
    expect(rows.map((r) => r.v)).toEqual(['a', 'bxx', 'cxx']);
  });

  it('fails with the QueryFailedError TypeORM raises, and keeps the healthy connection', async () => {
    const pid = async () => (await pooled.query<{ pid: number }[]>('SELECT pg_backend_pid() AS pid'))[0].pid;
    const before = await pid();
    const fail = (run: (sql: string, p: unknown[]) => Promise<unknown>) =>
      run(`INSERT INTO ${table} VALUES ($1, 'dup')`, [1]).then(
        () => expect.unreachable('a duplicate key was accepted'),
        (error: unknown) => error,
      );
    const viaPool = (await fail((s, p) => pooled.query(s, p))) as QueryFailedError & { code: string };
    const viaTypeorm = (await fail((s, p) => dataSource.query(s, p))) as QueryFailedError & { code: string };
    expect(viaPool).toBeInstanceOf(QueryFailedError);
    expect(viaPool.code).toBe('23505');
    expect(viaPool.message).toBe(viaTypeorm.message);
    expect(viaPool.query).toBe(viaTypeorm.query);
    expect(viaPool.parameters).toEqual([1]);
    expect(connectionProblem(viaPool)).toBeNull();
    // A refused statement is no reason to drop the connection.
    expect(await pid()).toBe(before);
  });

  it('a prepared statement (queryPrepared) is parsed once per connection and answers and fails as a text does', async () => {
    const named = (sql: string, params: unknown[]) =>
      queryPrepared<{ id: number; v: string }>(pooled, 'pool_statements_named', { sql, params });
    const text = `SELECT id, v FROM ${table} WHERE id = $1`;
    const first = await named(text, [1]);
    const second = await named(text, [2]);
    expect(first).toEqual(await pooled.query(text, [1]));
    expect(second).toEqual(await pooled.query(text, [2]));
    const prepared = await pooled.query<{ name: string; parameter_types: string }[]>(
      `SELECT name, parameter_types::text FROM pg_prepared_statements WHERE name = $1`,
      [preparedName('pool_statements_named', text)],
    );
    // One connection: both calls ran the statement prepared there, by its name.
    expect(prepared).toEqual([{ name: preparedName('pool_statements_named', text), parameter_types: '{integer}' }]);

    const duplicate = `INSERT INTO ${table} VALUES ($1, 'dup')`;
    const error = await named(duplicate, [1]).then(
      () => expect.unreachable('a duplicate key was accepted'),
      (e: unknown) => e as QueryFailedError & { code: string },
    );
    expect(error).toBeInstanceOf(QueryFailedError);
    expect(error.code).toBe('23505');
    expect(error.parameters).toEqual([1]);
    expect(connectionProblem(error)).toBeNull();
  });

  it('a connection that breaks during a statement is destroyed, not lent again', async () => {
    const pid = async () => (await pooled.query<{ pid: number }[]>('SELECT pg_backend_pid() AS pid'))[0].pid;
    const victim = await pid();
    const sleeping = pooled.query('SELECT pg_sleep(30)').then(
      () => expect.unreachable('the statement survived its backend'),
      (error: unknown) => error,
    );
    for (let i = 0; i < 100; i++) {
      const { rows } = await admin.query(
        `SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE 'SELECT pg_sleep%'`,
        [victim],
      );
      if (rows.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await admin.query('SELECT pg_terminate_backend($1)', [victim]);
    const error = await sleeping;
    expect(error).toBeInstanceOf(QueryFailedError);
    expect(connectionProblem(error)).toBe('lost');
    // The next statement runs on a new connection and succeeds.
    const next = await pid();
    expect(next).not.toBe(victim);
  });
});
