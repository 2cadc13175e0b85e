import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log (docs/audit.md): who changed what, written in the change's own transaction. It is
 * append-only in the database itself: UPDATE, DELETE and TRUNCATE are refused by
 * audit_log_append_only() (migration 1732000022000), so neither a bug nor a compromised service
 * account can rewrite the record of what it did. No foreign keys: an entry outlives whatever it
 * names.
 */
export class CreateAuditLog1732000022100 implements MigrationInterface {
  name = 'CreateAuditLog1732000022100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_log (
        id               uuid NOT NULL DEFAULT gen_random_uuid(),
        at               timestamptz NOT NULL DEFAULT now(),
        actor_user_id    varchar(50) NOT NULL,
        actor_role       varchar(20) NOT NULL,
        actor_via        varchar(10) NOT NULL,
        actor_api_key_id uuid,
        action           varchar(50) NOT NULL,
        target_type      varchar(50) NOT NULL,
        target_id        varchar(200) NOT NULL,
        before           jsonb,
        after            jsonb,
        request_id       varchar(128),
        CONSTRAINT audit_log_pkey PRIMARY KEY (id)
      )`);
    await q.query(`CREATE INDEX audit_log_time_idx ON audit_log (at, id)`);
    await q.query(`CREATE INDEX audit_log_actor_time_idx ON audit_log (actor_user_id, at, id)`);
    await q.query(`CREATE INDEX audit_log_action_time_idx ON audit_log (action, at, id)`);
    await q.query(`CREATE INDEX audit_log_target_time_idx ON audit_log (target_type, target_id, at, id)`);
    await q.query(`
      CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`);
    await q.query(`
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_log`);
  }
}
