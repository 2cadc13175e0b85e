import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Metering is its own audit trail: a record that names `credits` outright, written by a service
 * principal for another account, is an audit entry of its own (`usage.record`, read from the record
 * by GET /api/audit) instead of writing a second row into `audit_log`.
 *
 * - `credits_named`: the credits were given in the body, not priced from tokens (false on rows
 *   before this migration: their entries are already in `audit_log`, so nothing is answered twice).
 * - `request_id`: the X-Request-Id of the request that wrote it, kept on the records that are audit
 *   entries (credits named and `actor_id` set); null elsewhere, so the route every chat message calls
 *   stores nothing more.
 * - `usage_records_audit_idx`: those records newest first, for the audit log's reads; only they are
 *   in it, so other records pay nothing for it.
 *
 * The service role's column privileges on `usage_records` are granted at start-up
 * (src/database/service-role.ts), as the audit log's are.
 */
export class MeteringAuditTrail1732000040000 implements MigrationInterface {
  name = 'MeteringAuditTrail1732000040000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE usage_records ADD COLUMN credits_named boolean NOT NULL DEFAULT false,
                                 ADD COLUMN request_id varchar(128)`,
    );
    await q.query(
      `CREATE INDEX usage_records_audit_idx ON usage_records ("timestamp", id)
        WHERE credits_named AND actor_id IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX usage_records_audit_idx`);
    await q.query(`ALTER TABLE usage_records DROP COLUMN request_id, DROP COLUMN credits_named`);
  }
}
