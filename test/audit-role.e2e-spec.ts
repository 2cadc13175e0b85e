import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';

import { bearer, startTestApp, type TestApp, token, uniqueId } from './support/app.js';
import { Fixtures, tokenFor } from './support/fixtures.js';

// Were the service's own database role the owner of audit_log, `ALTER TABLE audit_log DISABLE
// TRIGGER …; DELETE` would work. docs/operations.md "Two database roles": the service
// connects as a role that owns nothing (the apps of the test run do, test/support/app.ts), the owner
// migrates through DATABASE_MIGRATION_URL and grants it only what it needs.

describe('the service role and the audit log', () => {
  let t: TestApp;
  let service: pg.Pool;

  beforeAll(async () => {
    t = await startTestApp();
    service = new pg.Pool({ connectionString: inject('serviceDatabaseUrl'), max: 2 });
    // One audited change, made through the app (which connects as the service role).
    const admin = bearer(tokenFor('admin', uniqueId('audit-role-admin')));
    const modelId = `audit-role-${uniqueId('m')}`;
    await t.http.post('/api/pricing').set(admin).send({ modelId, pricePer1kTokens: '1' }).expect(201);
  });
  afterAll(async () => {
    await service?.end();
    await t?.close();
  });

  /** Runs `sql` as the service role in a transaction that is rolled back; the error code, or 'ok'. */
  async function asService(sql: string): Promise<string> {
    const client = await service.connect();
    try {
      await client.query('BEGIN');
      await client.query(sql);
      return 'ok';
    } catch (error) {
      return (error as { code?: string }).code ?? String(error);
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
  }

  it('the app connects as that role, which is no superuser and owns nothing', async () => {
    const [role] = (
      await service.query(
        `SELECT current_user AS name, r.rolsuper,
                (SELECT count(*)::int FROM pg_class c WHERE c.relowner = r.oid) AS owned
           FROM pg_roles r WHERE r.rolname = current_user`,
      )
    ).rows;
    expect(role).toEqual({ name: new URL(inject('serviceDatabaseUrl')).username, rolsuper: false, owned: 0 });
    const { rows } = await t.db.query(
      `SELECT DISTINCT usename FROM pg_stat_activity WHERE application_name = 'accounting-service' AND datname = current_database()`,
    );
    expect(rows.map((r) => r.usename)).toContain(role.name);
  });

  it('refuses ALTER, DISABLE TRIGGER, UPDATE, DELETE, TRUNCATE and DROP on audit_log', async () => {
    const attempts = {
      disableTrigger: 'ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only',
      disableAllTriggers: 'ALTER TABLE audit_log DISABLE TRIGGER ALL',
      addColumn: 'ALTER TABLE audit_log ADD COLUMN forged text',
      changeOwner: 'ALTER TABLE audit_log OWNER TO CURRENT_USER',
      update: `UPDATE audit_log SET action = 'nothing.happened'`,
      delete: 'DELETE FROM audit_log',
      truncate: 'TRUNCATE audit_log',
      drop: 'DROP TABLE audit_log',
      dropTrigger: 'DROP TRIGGER audit_log_append_only ON audit_log',
      replicationRole: `SET session_replication_role = replica`,
    };
    const outcomes: Record<string, string> = {};
    for (const [name, sql] of Object.entries(attempts)) outcomes[name] = await asService(sql);
    // 42501: insufficient_privilege (also "must be owner of table").
    expect(outcomes).toEqual(Object.fromEntries(Object.keys(attempts).map((name) => [name, '42501'])));
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM audit_log`);
    expect(rows[0].n).toBeGreaterThan(0);
  });

  it('may read audit_log and insert into it', async () => {
    expect(await asService('SELECT * FROM audit_log LIMIT 1')).toBe('ok');
    expect(
      await asService(
        `INSERT INTO audit_log (actor_user_id, actor_role, actor_via, action, target_type, target_id)
         VALUES ('someone', 'admin', 'jwt', 'pricing.create', 'pricing_rule', 'x')`,
      ),
    ).toBe('ok');
  });

  it('the ledger is append-only for it too, and other tables do not give it DDL or TRUNCATE', async () => {
    expect(await asService('UPDATE credit_ledger SET amount = 0')).toBe('42501');
    expect(await asService('DELETE FROM credit_ledger')).toBe('42501');
    expect(await asService('TRUNCATE usage_records')).toBe('42501');
    expect(await asService('ALTER TABLE credit_allocations DISABLE TRIGGER ALL')).toBe('42501');
    expect(await asService('CREATE TABLE public.intruder (id int)')).toBe('42501');
    expect(await asService(`DELETE FROM migrations`)).toBe('42501');
  });

  it('the app works as that role: metering, audited changes, reading the audit log', async () => {
    const f = new Fixtures(t, { prefix: 'audrole' });
    const u = await f.newUser({ credits: 50 });
    await f.recordUsage(u, 7).expect(201);
    const admin = bearer(token({ sub: uniqueId('audit-reader'), role: 'admin' }));
    const entries = await t.http.get('/api/audit?action=credits.allocate').set(admin).expect(200);
    expect(entries.body.items.length).toBeGreaterThan(0);
    expect(await f.available(u.id)).toBe(43);
  });
});
