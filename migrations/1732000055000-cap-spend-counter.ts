import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One spend counter for every cap (docs/spend-controls.md): credit_cap_spend replaces a budgeted key's
 * credit_key_spend and a member's org_member_spend, whose rows it takes over (a key's bucket: its
 * period; a member's: a UTC day of their organisation's account). The functions that read and write
 * it follow (1732000055100); the old counters go after them (1732000055200).
 */
export class CapSpendCounter1732000055000 implements MigrationInterface {
  name = 'CapSpendCounter1732000055000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE credit_cap_spend (
        subject_kind varchar(6)  NOT NULL
          CONSTRAINT credit_cap_spend_subject_kind_check CHECK (subject_kind IN ('key', 'member')),
        subject_id   varchar(50) NOT NULL,
        account_id   bigint      NOT NULL,
        period_start timestamptz NOT NULL,
        spent        bigint      NOT NULL DEFAULT '0' CONSTRAINT credit_cap_spend_spent_check CHECK (spent >= 0),
        CONSTRAINT credit_cap_spend_pkey PRIMARY KEY (subject_kind, subject_id, account_id, period_start)
      )`);
    await q.query(`
      INSERT INTO credit_cap_spend (subject_kind, subject_id, account_id, period_start, spent)
      SELECT 'key', s.api_key_id::varchar, 0, s.period_start, s.spent FROM credit_key_spend s`);
    // a member's day as the instant it starts in UTC
    await q.query(`
      INSERT INTO credit_cap_spend (subject_kind, subject_id, account_id, period_start, spent)
      SELECT 'member', s.user_id, a.account_id, s.day::timestamp AT TIME ZONE 'UTC', s.spent
        FROM org_member_spend s JOIN accounts a ON a.org_id = s.org_id`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE credit_cap_spend`);
  }
}
