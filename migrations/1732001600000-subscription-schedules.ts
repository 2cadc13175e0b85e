import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A subscription's scheduled change (a PUT with `timing: "period_end"`): the plan it moves to at
 * `scheduled_at`, the end of its period in progress, with the options the PUT named (all or none). The renewal job
 * applies it instead of the old plan's renewal, under the subscription's row lock, once.
 */
export class SubscriptionSchedules1732001600000 implements MigrationInterface {
  name = 'SubscriptionSchedules1732001600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE subscriptions
        ADD COLUMN scheduled_plan_id varchar(50)
          CONSTRAINT subscriptions_scheduled_plan_id_fkey REFERENCES plans (id),
        ADD COLUMN scheduled_at timestamptz,
        ADD COLUMN scheduled_allowance varchar(10),
        ADD COLUMN scheduled_anchor varchar(7),
        ADD CONSTRAINT subscriptions_scheduled_check CHECK (
          (scheduled_plan_id IS NULL) = (scheduled_at IS NULL)
          AND (scheduled_plan_id IS NULL) = (scheduled_allowance IS NULL)
          AND (scheduled_plan_id IS NULL) = (scheduled_anchor IS NULL)),
        ADD CONSTRAINT subscriptions_scheduled_options_check CHECK (
          scheduled_allowance::text = ANY ('{difference,prorated,full}'::text[])
          AND scheduled_anchor::text = ANY ('{keep,restart}'::text[]))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_scheduled_options_check,
        DROP CONSTRAINT subscriptions_scheduled_check, DROP COLUMN scheduled_anchor, DROP COLUMN scheduled_allowance, DROP COLUMN scheduled_at, DROP COLUMN scheduled_plan_id`);
  }
}
