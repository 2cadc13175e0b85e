import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What an organisation's members spend (CONTRACT "Organisations"): usage records and streaming
 * sessions charged to an org carry its `org_id` beside the member's `user_id`; `org_member_spend`
 * counts what each member spent from the org per UTC day (held credits of open sessions included), so
 * a member's limit of any period (day, ISO week, month) is the sum of at most 31 rows, and changing a
 * limit's period never resets what was spent. A counter, never a wallet: the money stays in the
 * org's allocations.
 */
export class OrgSpending1732000030100 implements MigrationInterface {
  name = 'OrgSpending1732000030100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_records ADD COLUMN org_id varchar(50)
      CONSTRAINT usage_records_org_id_fkey REFERENCES orgs (org_id)`);
    await q.query(
      `CREATE INDEX usage_records_org_time_idx ON usage_records (org_id, "timestamp") WHERE org_id IS NOT NULL`,
    );
    await q.query(`ALTER TABLE streaming_sessions ADD COLUMN org_id varchar(50)
      CONSTRAINT streaming_sessions_org_id_fkey REFERENCES orgs (org_id)`);
    await q.query(`
      CREATE TABLE org_member_spend (
        org_id varchar(50) NOT NULL,
        user_id varchar(50) NOT NULL,
        day date NOT NULL,
        spent bigint NOT NULL DEFAULT '0'::bigint,
        CONSTRAINT org_member_spend_pkey PRIMARY KEY (org_id, user_id, day),
        CONSTRAINT org_member_spend_member_fkey FOREIGN KEY (org_id, user_id) REFERENCES org_members (org_id, user_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE org_member_spend`);
    await q.query(`ALTER TABLE streaming_sessions DROP COLUMN org_id`);
    await q.query(`DROP INDEX usage_records_org_time_idx`);
    await q.query(`ALTER TABLE usage_records DROP COLUMN org_id`);
  }
}
