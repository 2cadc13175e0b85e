import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Plans and subscriptions (docs/plans.md), and what an allocation remembers of them.
 *
 * A plan's period grant is an allocation keyed by (subscription, period start, source): the unique
 * index `credit_allocations_period_idx` is what makes a period's grant (and its rollover) happen at
 * most once whatever retries, instances or restarts do. `subscriptions.next_grant_at` is the start of
 * the next period to grant; the renewal job looks only at due rows through a partial index.
 */
export class CreatePlans1732000008000 implements MigrationInterface {
  name = 'CreatePlans1732000008000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE plans (
        id           varchar(50)  PRIMARY KEY CONSTRAINT plans_id_check CHECK (id ~ '^[a-z0-9-]+$'),
        name         varchar(100) NOT NULL,
        credits      integer      NOT NULL CONSTRAINT plans_credits_check CHECK (credits >= 1),
        period       varchar(5)   NOT NULL CONSTRAINT plans_period_check CHECK (period IN ('day', 'week', 'month')),
        rollover_cap integer      NOT NULL DEFAULT 0 CONSTRAINT plans_rollover_cap_check CHECK (rollover_cap >= 0),
        is_active    boolean      NOT NULL DEFAULT true,
        created_by   varchar(50)  NOT NULL,
        created_at   timestamptz  NOT NULL DEFAULT now(),
        updated_at   timestamptz  NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE subscriptions (
        id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id       varchar(50) NOT NULL REFERENCES user_accounts (user_id),
        plan_id       varchar(50) NOT NULL REFERENCES plans (id),
        starts_at     timestamptz NOT NULL,
        next_grant_at timestamptz NOT NULL,
        created_by    varchar(50) NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        ended_at      timestamptz,
        ended_by      varchar(50)
      )`);
    // At most one live subscription per user; the renewal job's due list; subscriber counts.
    await q.query(`CREATE UNIQUE INDEX subscriptions_user_live_idx ON subscriptions (user_id) WHERE ended_at IS NULL`);
    await q.query(`CREATE INDEX subscriptions_due_idx ON subscriptions (next_grant_at) WHERE ended_at IS NULL`);
    await q.query(`CREATE INDEX subscriptions_plan_idx ON subscriptions (plan_id) WHERE ended_at IS NULL`);

    await q.query(`
      ALTER TABLE credit_allocations
        ADD COLUMN source varchar(10) NOT NULL DEFAULT 'manual'
          CONSTRAINT credit_allocations_source_check CHECK (source IN ('manual', 'plan', 'rollover')),
        ADD COLUMN plan_id varchar(50) REFERENCES plans (id),
        ADD COLUMN subscription_id uuid REFERENCES subscriptions (id),
        ADD COLUMN period_start timestamptz,
        ADD CONSTRAINT credit_allocations_plan_check CHECK (
          (source = 'manual' AND subscription_id IS NULL AND plan_id IS NULL AND period_start IS NULL)
          OR (source <> 'manual' AND subscription_id IS NOT NULL AND plan_id IS NOT NULL AND period_start IS NOT NULL))`);
    await q.query(
      `CREATE UNIQUE INDEX credit_allocations_period_idx ON credit_allocations (subscription_id, period_start, source)
        WHERE subscription_id IS NOT NULL`,
    );

    await q.query(`ALTER TABLE credit_ledger DROP CONSTRAINT credit_ledger_kind_check`);
    await q.query(`ALTER TABLE credit_ledger ADD CONSTRAINT credit_ledger_kind_check
      CHECK (kind IN ('grant', 'debit', 'hold', 'release', 'expire', 'void', 'rollover'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_ledger DROP CONSTRAINT credit_ledger_kind_check`);
    await q.query(`ALTER TABLE credit_ledger ADD CONSTRAINT credit_ledger_kind_check
      CHECK (kind IN ('grant', 'debit', 'hold', 'release', 'expire', 'void'))`);
    await q.query(`DROP INDEX credit_allocations_period_idx`);
    await q.query(`ALTER TABLE credit_allocations DROP CONSTRAINT credit_allocations_plan_check,
      DROP COLUMN period_start, DROP COLUMN subscription_id, DROP COLUMN plan_id, DROP COLUMN source`);
    await q.query(`DROP TABLE subscriptions`);
    await q.query(`DROP TABLE plans`);
  }
}
