import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Who acted (CONTRACT v4 "Attribution, throttling and operations"): a usage record keeps the API key
 * that wrote it (`api_key_id`) and, when that principal is not the billed user, who it was
 * (`actor_id`: the JWT's user or the key's owner). A streaming session keeps the credential that
 * opened it (`opened_by`, `opened_by_api_key_id`), so an abort by that same credential is metering
 * and one by any other principal is audited; its expiry record names the opener.
 *
 * NULL on rows before this migration (nobody recorded it then). No foreign keys: a record outlives
 * the key that wrote it, as the audit log's entries do.
 */
export class WhoActed1732000027000 implements MigrationInterface {
  name = 'WhoActed1732000027000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_records ADD COLUMN api_key_id uuid, ADD COLUMN actor_id varchar(50)`);
    await q.query(
      `ALTER TABLE streaming_sessions ADD COLUMN opened_by varchar(50), ADD COLUMN opened_by_api_key_id uuid`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE streaming_sessions DROP COLUMN opened_by, DROP COLUMN opened_by_api_key_id`);
    await q.query(`ALTER TABLE usage_records DROP COLUMN api_key_id, DROP COLUMN actor_id`);
  }
}
