import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildDatabaseConfig } from '../src/config/app-config.js';
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../src/database/server/embedded-postgres.js';
import { migrateAsOwner } from '../src/database/service-role.js';

// docs/operations.md "Two database roles", without configuration: the embedded database (npm start without a
// database configured) sets both roles up itself: its superuser migrates, the service connects as
// accounting_service, which owns nothing.

describe('the embedded database’s two roles', () => {
  let dir: string;
  let embedded: EmbeddedDatabase;
  let service: pg.Client;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'accounting-roles-'));
    await chmod(dir, 0o755); // as root the server runs as the postgres user
    embedded = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), database: 'accounting', log: () => {} });
    const database = buildDatabaseConfig({ DATABASE_URL: embedded.serviceUrl, DATABASE_MIGRATION_URL: embedded.url });
    await migrateAsOwner({ ...database, url: embedded.serviceUrl, migrationUrl: embedded.url });
    service = new pg.Client({ connectionString: embedded.serviceUrl });
    await service.connect();
  }, 180_000);
  afterAll(async () => {
    await service?.end();
    await embedded?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const attempt = async (sql: string) => {
    try {
      await service.query('BEGIN');
      await service.query(sql);
      return 'ok';
    } catch (error) {
      return (error as { code?: string }).code;
    } finally {
      await service.query('ROLLBACK');
    }
  };

  it('the service role reads and appends to audit_log, and can neither change nor disable it', async () => {
    expect(new URL(embedded.serviceUrl).username).toBe('accounting_service');
    expect(await attempt('SELECT count(*) FROM audit_log')).toBe('ok');
    expect(await attempt('SELECT count(*) FROM pricing_rules')).toBe('ok');
    for (const sql of [
      'ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only',
      'DELETE FROM audit_log',
      'UPDATE audit_log SET action = action',
      'TRUNCATE audit_log',
    ]) {
      expect(await attempt(sql), sql).toBe('42501');
    }
  });

  it('starting again is harmless: the grants are applied again under a lock', async () => {
    const database = buildDatabaseConfig({ DATABASE_URL: embedded.serviceUrl, DATABASE_MIGRATION_URL: embedded.url });
    await Promise.all([
      migrateAsOwner({ ...database, url: embedded.serviceUrl, migrationUrl: embedded.url }),
      migrateAsOwner({ ...database, url: embedded.serviceUrl, migrationUrl: embedded.url }),
    ]);
    expect(await attempt('DELETE FROM audit_log')).toBe('42501');
  });
});
