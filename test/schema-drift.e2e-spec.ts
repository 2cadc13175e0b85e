import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestApp, type TestApp } from './support/app.js';

/**
 * One schema: the entities describe the tables the migrations create. On the freshly migrated test
 * database, TypeORM's schema diff (what `npm run migration:generate` would write) must be empty, so a
 * reviewer never sees a generated migration that silently drops constraints or indexes.
 */
describe('schema drift', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it('generating a migration from the entities on a migrated database yields nothing', async () => {
    const sql = await t.app.get(DataSource).driver.createSchemaBuilder().log();
    const statements = sql.upQueries.map((q) => q.query);
    expect(statements, 'Generated migration files not up to date! The entities and the migrations differ.').toEqual([]);
  });
});
