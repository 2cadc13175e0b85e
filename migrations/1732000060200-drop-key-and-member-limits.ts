import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The limit columns credit_caps took over (1732000060000), now that no function reads them
 * (1732000060100). Down puts them back, filled from credit_caps.
 */
export class DropKeyAndMemberLimits1732000060200 implements MigrationInterface {
  name = 'DropKeyAndMemberLimits1732000060200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE api_keys
        DROP CONSTRAINT api_keys_credit_limit_check,
        DROP CONSTRAINT api_keys_limit_period_check,
        DROP CONSTRAINT api_keys_limit_check,
        DROP COLUMN credit_limit,
        DROP COLUMN limit_period`);
    await q.query(`
      ALTER TABLE org_members
        DROP CONSTRAINT org_members_spend_limit_check,
        DROP CONSTRAINT org_members_spend_limit_period_check,
        DROP CONSTRAINT org_members_spend_limit_pair_check,
        DROP COLUMN spend_limit,
        DROP COLUMN spend_limit_period,
        DROP COLUMN limit_reached_period`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE api_keys
        ADD COLUMN credit_limit integer CONSTRAINT api_keys_credit_limit_check CHECK (credit_limit >= 1),
        ADD COLUMN limit_period varchar(5)
          CONSTRAINT api_keys_limit_period_check CHECK (limit_period IN ('day', 'week', 'month', 'total')),
        ADD CONSTRAINT api_keys_limit_check CHECK ((credit_limit IS NULL) = (limit_period IS NULL))`);
    await q.query(`
      UPDATE api_keys k SET credit_limit = c.credit_limit, limit_period = c.period
        FROM credit_caps c
       WHERE c.subject_kind = 'key' AND c.subject_id = k.id::varchar AND c.account_id = 0 AND c.credit_limit IS NOT NULL`);
    await q.query(`
      ALTER TABLE org_members
        ADD COLUMN spend_limit bigint CONSTRAINT org_members_spend_limit_check CHECK (spend_limit >= 0),
        ADD COLUMN spend_limit_period varchar(5)
          CONSTRAINT org_members_spend_limit_period_check CHECK (spend_limit_period IN ('day', 'week', 'month')),
        ADD COLUMN limit_reached_period date,
        ADD CONSTRAINT org_members_spend_limit_pair_check CHECK ((spend_limit IS NULL) = (spend_limit_period IS NULL))`);
    await q.query(`
      UPDATE org_members m
         SET spend_limit = c.credit_limit, spend_limit_period = c.period, limit_reached_period = c.limit_reached_period
        FROM credit_caps c JOIN accounts a ON a.account_id = c.account_id
       WHERE c.subject_kind = 'member' AND c.subject_id = m.user_id AND a.org_id = m.org_id`);
  }
}
