import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The key and member counters credit_cap_spend took over (1732000055000), now that no function reads
 * them (1732000055100). Down recreates them from credit_cap_spend: a key's newest bucket (the old
 * table kept one row per key), a member's days.
 */
export class DropKeyAndMemberSpend1732000055200 implements MigrationInterface {
  name = 'DropKeyAndMemberSpend1732000055200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE credit_key_spend`);
    await q.query(`DROP TABLE org_member_spend`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE credit_key_spend (
        api_key_id   uuid        PRIMARY KEY REFERENCES api_keys (id) ON DELETE CASCADE,
        period_start timestamptz NOT NULL,
        spent        bigint      NOT NULL DEFAULT '0' CONSTRAINT credit_key_spend_spent_check CHECK (spent >= 0)
      )`);
    await q.query(`
      INSERT INTO credit_key_spend (api_key_id, period_start, spent)
      SELECT DISTINCT ON (s.subject_id) s.subject_id::uuid, s.period_start, s.spent
        FROM credit_cap_spend s JOIN api_keys k ON k.id = s.subject_id::uuid
       WHERE s.subject_kind = 'key'
       ORDER BY s.subject_id, s.period_start DESC`);
    await q.query(`
      CREATE TABLE org_member_spend (
        org_id varchar(50) NOT NULL,
        user_id varchar(50) NOT NULL,
        day date NOT NULL,
        spent bigint NOT NULL DEFAULT '0'::bigint,
        CONSTRAINT org_member_spend_pkey PRIMARY KEY (org_id, user_id, day),
        CONSTRAINT org_member_spend_member_fkey FOREIGN KEY (org_id, user_id) REFERENCES org_members (org_id, user_id)
      )`);
    await q.query(`
      INSERT INTO org_member_spend (org_id, user_id, day, spent)
      SELECT a.org_id, s.subject_id, (s.period_start AT TIME ZONE 'UTC')::date, s.spent
        FROM credit_cap_spend s JOIN accounts a ON a.account_id = s.account_id
       WHERE s.subject_kind = 'member'`);
  }
}
