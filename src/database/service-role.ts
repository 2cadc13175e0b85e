import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { DatabaseConfig } from '../config/app-config.js';
import { roleOf } from '../config/role-of.js';
import { buildDataSourceOptions } from './data-source-options.js';

/**
 * Tables that are evidence: the service may add to them and read them, never change, delete or
 * empty them (their triggers refuse UPDATE, DELETE and TRUNCATE too; the privileges make sure a role
 * that connects as the service cannot simply disable those triggers).
 */
export const APPEND_ONLY_TABLES = ['audit_log', 'credit_ledger'] as const;

/**
 * A usage record is written once (metering is its own audit trail): the service inserts and reads
 * records and may update only these columns, their review state. Its credits, token counts, account,
 * attribution and request id stay as written; a collect adds to the credits only through
 * usage_record_resolve(), which runs as the tables' owner.
 */
export const RECORD_REVIEW_COLUMNS = [
  'billing_status',
  'review_status',
  'resolution',
  'resolved_by',
  'resolved_at',
  'resolution_note',
] as const;

/** Serialises the grant step of instances starting together (concurrent GRANTs on one table fail). */
const GRANT_LOCK = `hashtext('accounting-service:grant-service-role')`;

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * What the service's own role (DATABASE_URL) may do, granted by the tables' owner after migrating:
 * read and write every table of the schema, except the append-only ones (read and insert only) and
 * the usage records (read, insert, and update their review state only), run
 * its functions, use its sequences; nothing else (no TRUNCATE, no DDL: it owns nothing). Revoked
 * first, so a role that had more (a former owner's grants) keeps only this. The default privileges
 * cover the tables a later migration adds before the next start applies this again.
 */
export function serviceRoleGrants(role: string): string[] {
  const r = quoteIdent(role);
  return [
    `GRANT USAGE ON SCHEMA public TO ${r}`,
    `REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${r}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${r}`,
    ...APPEND_ONLY_TABLES.map((table) => `REVOKE UPDATE, DELETE ON ${table} FROM ${r}`),
    `REVOKE UPDATE, DELETE ON usage_records FROM ${r}`,
    `GRANT UPDATE (${RECORD_REVIEW_COLUMNS.join(', ')}) ON usage_records TO ${r}`,
    // TypeORM's record of the migrations: the service reads it at most.
    `REVOKE INSERT, UPDATE, DELETE ON migrations FROM ${r}`,
    `GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO ${r}`,
    `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO ${r}`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${r}`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${r}`,
  ];
}

/**
 * With DATABASE_MIGRATION_URL (the tables' owner): migrates through it when DB_MIGRATIONS_RUN, then
 * grants the service's role (DATABASE_URL's) what it needs and nothing more, in one transaction under
 * an advisory lock. Refuses to go on when the service's role turns out to own the tables, or to be a
 * superuser: the audit log would then be only as safe as that role.
 */
export async function migrateAsOwner(database: DatabaseConfig & { url: string; migrationUrl: string }): Promise<void> {
  const logger = new Logger('Database');
  const role = roleOf(database.url);
  if (!role)
    throw new Error('DATABASE_URL must name its role (postgres://ROLE@host/db) next to DATABASE_MIGRATION_URL');
  const owner = new DataSource({
    ...buildDataSourceOptions({ ...database, url: database.migrationUrl, readUrl: null, poolSize: 1 }),
    migrationsRun: false,
  });
  await owner.initialize();
  try {
    if (database.migrationsRun) {
      const applied = await owner.runMigrations({ transaction: 'each' });
      if (applied.length > 0) logger.log({ msg: 'migrations applied as the owner', count: applied.length });
    }
    await owner.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(${GRANT_LOCK})`);
      const [found] = (await manager.query(
        `SELECT r.rolsuper AS superuser,
                EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = r.oid AND c.relname = 'audit_log') AS owns
           FROM pg_roles r WHERE r.rolname = $1`,
        [role],
      )) as Array<{ superuser: boolean; owns: boolean }>;
      if (!found) throw new Error(`DATABASE_URL's role "${role}" does not exist`);
      if (found.superuser || found.owns) {
        throw new Error(
          `DATABASE_URL's role "${role}" is ${found.superuser ? 'a superuser' : 'the owner of the tables'}: ` +
            'the service must connect as a role that owns nothing (docs/operations.md, "Two database roles")',
        );
      }
      for (const statement of serviceRoleGrants(role)) await manager.query(statement);
    });
  } finally {
    await owner.destroy();
  }
}
