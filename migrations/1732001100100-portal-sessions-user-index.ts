import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An erasure ends the person's portal sessions (docs/erasure.md): found by `user_id` through an index,
 * so its cost is the person's sessions, not the table's.
 */
export class PortalSessionsUserIndex1732001100100 implements MigrationInterface {
  name = 'PortalSessionsUserIndex1732001100100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX portal_sessions_user_idx ON portal_sessions (user_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX portal_sessions_user_idx`);
  }
}
