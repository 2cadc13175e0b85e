import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One caps table owned by the credits module (docs/spend-controls.md): a budgeted key's limit
 * (api_keys.credit_limit, limit_period) and a member's (org_members.spend_limit, spend_limit_period,
 * limit_reached_period) move to credit_caps, keyed as credit_cap_spend keys their spend (a key: its id
 * and account 0; a member: their user id and the org's account). The engine's functions read it
 * (1732000060100); the old columns go after them (1732000060200).
 */
export class CreditCaps1732000060000 implements MigrationInterface {
  name = 'CreditCaps1732000060000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE credit_caps (
        subject_kind varchar(6)  NOT NULL
          CONSTRAINT credit_caps_subject_kind_check CHECK (subject_kind IN ('key', 'member')),
        subject_id   varchar(50) NOT NULL,
        account_id   bigint      NOT NULL,
        credit_limit bigint,
        period       varchar(5),
        limit_reached_period date,
        owner_id     varchar(50),
        updated_at   timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT credit_caps_pkey PRIMARY KEY (subject_kind, subject_id, account_id),
        CONSTRAINT credit_caps_limit_pair_check CHECK ((credit_limit IS NULL) = (period IS NULL)),
        CONSTRAINT credit_caps_key_check CHECK (subject_kind <> 'key' OR (credit_limit >= 1
          AND period IN ('day', 'week', 'month', 'total') AND account_id = 0 AND owner_id IS NOT NULL)),
        CONSTRAINT credit_caps_member_check CHECK (subject_kind <> 'member' OR (credit_limit >= 0
          AND period IN ('day', 'week', 'month')))
      )`);
    await q.query(`
      INSERT INTO credit_caps (subject_kind, subject_id, account_id, credit_limit, period, owner_id)
      SELECT 'key', k.id::varchar, 0, k.credit_limit, k.limit_period, k.user_id FROM api_keys k
       WHERE k.credit_limit IS NOT NULL`);
    // a member whose limit was removed keeps the period its event was sent for
    await q.query(`
      INSERT INTO credit_caps (subject_kind, subject_id, account_id, credit_limit, period, limit_reached_period)
      SELECT 'member', m.user_id, a.account_id, m.spend_limit, m.spend_limit_period, m.limit_reached_period
        FROM org_members m JOIN accounts a ON a.org_id = m.org_id
       WHERE m.spend_limit IS NOT NULL OR m.limit_reached_period IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE credit_caps`);
  }
}
