import pg from 'pg';
import { DataSource } from 'typeorm';

import { databaseProblem, StartupError } from '../common/startup/startup-checks.js';
import type { DatabaseConfig } from '../config/app-config.js';
import { roleOf } from '../config/role-of.js';
import { buildDataSourceOptions } from './data-source-options.js';
import { migrateUnderLock } from './migration-lock.js';

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
 * What makes DATABASE_URL's role unfit to be the service's, as the owner's connection (`query`) sees
 * it, or null: a superuser; the tables' owner (of audit_log, else the migrating role before the first
 * migration); a member of that owner (it could SET ROLE to it, then disable the audit log's trigger);
 * CREATEROLE (it could grant itself that membership). One sentence for a person at a terminal.
 */
export async function serviceRoleProblem(
  query: (sql: string, params: unknown[]) => Promise<unknown[]>,
  role: string,
): Promise<StartupError | null> {
  const [found] = (await query(
    `WITH owner AS (
       SELECT COALESCE((SELECT c.relowner FROM pg_class c
                         WHERE c.relname = 'audit_log' AND c.relnamespace = 'public'::regnamespace),
                       (SELECT oid FROM pg_roles WHERE rolname = current_user)) AS oid)
     SELECT r.rolsuper AS superuser, r.rolcreaterole AS createrole, r.oid = owner.oid AS owns,
            pg_has_role(r.oid, owner.oid, 'MEMBER') AS member
       FROM pg_roles r, owner WHERE r.rolname = $1`,
    [role],
  )) as Array<{ superuser: boolean; createrole: boolean; owns: boolean; member: boolean }>;
  if (!found)
    return new StartupError(`DATABASE_URL's role "${role}" does not exist: create it or correct DATABASE_URL.`);
  const what = found.superuser
    ? 'is a superuser'
    : found.owns
      ? 'owns the tables'
      : found.member
        ? 'is a member of the role that owns the tables'
        : found.createrole
          ? 'may create roles (CREATEROLE), so it could make itself a member of the tables’ owner'
          : null;
  if (what === null) return null;
  return new StartupError(
    `DATABASE_URL's role "${role}" ${what}: connect the service as a role that owns nothing, is no member ` +
      'of the owner and has neither SUPERUSER nor CREATEROLE (docs/operations.md, "Two database roles").',
  );
}

/**
 * Before anything starts (main.ts): refuses DATABASE_URL's role in one sentence, through the owner's
 * connection, when serviceRoleProblem() finds it unfit. Nest would print a stack for the same refusal
 * made while the app starts (migrateAsOwner, which checks it again under its lock).
 */
export async function checkServiceRole(url: string, migrationUrl: string): Promise<void> {
  const role = roleOf(url);
  if (!role) return; // migrateAsOwner says what is wrong
  const client = new pg.Client({ connectionString: migrationUrl, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw databaseProblem(migrationUrl, 'DATABASE_MIGRATION_URL', error);
  }
  try {
    const problem = await serviceRoleProblem(async (sql, params) => (await client.query(sql, params)).rows, role);
    if (problem) throw problem;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * With DATABASE_MIGRATION_URL (the tables' owner): migrates through it when DB_MIGRATIONS_RUN, then
 * grants the service's role (DATABASE_URL's) what it needs and nothing more, in one transaction under
 * an advisory lock. Refuses to go on when the service's role is unfit (serviceRoleProblem()): the
 * audit log would then be only as safe as that role.
 */
export async function migrateAsOwner(database: DatabaseConfig & { url: string; migrationUrl: string }): Promise<void> {
  const role = roleOf(database.url);
  if (!role)
    throw new Error('DATABASE_URL must name its role (postgres://ROLE@host/db) next to DATABASE_MIGRATION_URL');
  // Migrations under their advisory lock (migrateUnderLock()): instances starting together take turns.
  // It logs what it applied (once: not again here).
  if (database.migrationsRun) await migrateUnderLock({ ...database, url: database.migrationUrl });
  const owner = new DataSource({
    ...buildDataSourceOptions({ ...database, url: database.migrationUrl, readUrl: null, poolSize: 1 }),
    migrationsRun: false,
  });
  await owner.initialize();
  try {
    await owner.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(${GRANT_LOCK})`);
      const problem = await serviceRoleProblem((sql, params) => manager.query(sql, params), role);
      if (problem) throw problem;
      for (const statement of serviceRoleGrants(role)) await manager.query(statement);
    });
  } finally {
    await owner.destroy();
  }
}
