import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Session ids belong to their user (CONTRACT "Who may meter"): `(session_id, user_id)` names a
 * streaming session and its hold, so two users may use the same id, and one user's id neither
 * answers 409 to another nor can be squatted by them. The ledger's hold and release lines already
 * carry both columns. The functions that read these keys change in the next migration.
 *
 * down restores the single-column keys, and fails while two users share a session id.
 */
export class PerUserSessionIds1732000016000 implements MigrationInterface {
  name = 'PerUserSessionIds1732000016000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE streaming_sessions DROP CONSTRAINT streaming_sessions_pkey`);
    await q.query(
      `ALTER TABLE streaming_sessions ADD CONSTRAINT streaming_sessions_pkey PRIMARY KEY (session_id, user_id)`,
    );
    await q.query(`ALTER TABLE credit_holds DROP CONSTRAINT credit_holds_pkey`);
    await q.query(`ALTER TABLE credit_holds ADD CONSTRAINT credit_holds_pkey PRIMARY KEY (session_id, user_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_holds DROP CONSTRAINT credit_holds_pkey`);
    await q.query(`ALTER TABLE credit_holds ADD CONSTRAINT credit_holds_pkey PRIMARY KEY (session_id)`);
    await q.query(`ALTER TABLE streaming_sessions DROP CONSTRAINT streaming_sessions_pkey`);
    await q.query(`ALTER TABLE streaming_sessions ADD CONSTRAINT streaming_sessions_pkey PRIMARY KEY (session_id)`);
  }
}
