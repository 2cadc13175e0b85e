import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What an in-process caller (the gateway) wants on its session's record, stored when the session
 * opens: the service name and metadata that an expiry's record carries when the instance that would
 * have settled it is gone (docs/gateway.md "Settlement"). Null: the `chat-streaming…` record.
 */
export class SessionRecordExtras1732001510000 implements MigrationInterface {
  name = 'SessionRecordExtras1732001510000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE streaming_sessions ADD COLUMN record_extras jsonb
      CONSTRAINT streaming_sessions_record_extras_check CHECK (jsonb_typeof(record_extras) = 'object')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE streaming_sessions DROP COLUMN record_extras`);
  }
}
