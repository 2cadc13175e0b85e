import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MIGRATIONS } from '../migrations/index.js';
import { startTestApp, type TestApp } from './support/app.js';
import { MigrationDatabase } from './support/migration-database.js';

/**
 * Instances started together on an empty database (docs/operations.md "Two database roles"): the migrations run
 * under one advisory lock, so one instance runs them and the others wait for it, find none pending and
 * come up; none fails on a table or a row another is creating.
 */
describe('two instances starting together on an empty database', () => {
  let fresh: MigrationDatabase;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    fresh = await MigrationDatabase.create('concurrent_start');
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await fresh.close();
  });

  it('both come up, and every migration ran once', async () => {
    const env = { DATABASE_URL: fresh.url, DB_MIGRATIONS_RUN: 'true' };
    const started = await Promise.allSettled([startTestApp(env), startTestApp(env)]);
    for (const s of started) if (s.status === 'fulfilled') apps.push(s.value);
    expect(started.map((s) => (s.status === 'rejected' ? String(s.reason) : 'up'))).toEqual(['up', 'up']);
    const { rows } = await fresh.db.query(`SELECT name, count(*)::int AS n FROM migrations GROUP BY name`);
    expect(rows).toHaveLength(MIGRATIONS.length);
    expect(rows.every((r) => r.n === 1)).toBe(true);
    for (const app of apps) await app.http.get('/health').expect(200);
  });
});
