import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A portal session's reach (`full`, or `read`: the reads only, what embeddable elements need) and the
 * session an API key was created in (kept as a plain id: the session's row is deleted once it is over,
 * the key keeps naming it). Ending a session revokes the keys made in it, found by the partial index.
 */
export class PortalKeyTies1732000750000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE portal_sessions ADD scope varchar(8) NOT NULL DEFAULT 'full',
      ADD CONSTRAINT portal_sessions_scope_check CHECK (scope IN ('full', 'read'))`);
    await q.query(`ALTER TABLE api_keys ADD portal_session_id uuid`);
    await q.query(
      `CREATE INDEX api_keys_portal_session_idx ON api_keys (portal_session_id) WHERE portal_session_id IS NOT NULL`,
    );
    // The retention job deletes sessions once expired (an ended one also expires within the hour).
    await q.query(`CREATE INDEX portal_sessions_expires_idx ON portal_sessions (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX portal_sessions_expires_idx`);
    await q.query(`DROP INDEX api_keys_portal_session_idx`);
    await q.query(`ALTER TABLE api_keys DROP COLUMN portal_session_id`);
    await q.query(`ALTER TABLE portal_sessions DROP CONSTRAINT portal_sessions_scope_check, DROP COLUMN scope`);
  }
}
