import type { MigrationInterface, QueryRunner } from 'typeorm';

const SOURCES_BEFORE = `'manual', 'plan', 'rollover', 'transfer', 'purchase'`;
const SOURCES_AFTER = `${SOURCES_BEFORE}, 'promotion', 'signup'`;

/**
 * Selling credits (docs/selling.md): `packages` (the price book; a package's credits and price never
 * change), a purchase's `package_id` and `bonus_credits` (granted with its credits, in its one
 * allocation), `promotions` and `promotion_redemptions` (the account's nth redemption of a code is
 * unique, so a code's `per_account` cannot be passed twice by one account whatever the code does),
 * `promotion_failures` (the refused redemptions of each principal in its current hour). Allocations
 * gain the sources `promotion` and `signup`; a signup allocation exists at most once per account.
 */
export class Selling1732000047000 implements MigrationInterface {
  name = 'Selling1732000047000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE packages (
        package_id varchar(50) NOT NULL CONSTRAINT packages_pkey PRIMARY KEY
          CONSTRAINT packages_package_id_check CHECK (package_id ~ '^[a-z0-9_-]{3,50}$'),
        name varchar(100) NOT NULL,
        credits integer NOT NULL CONSTRAINT packages_credits_check CHECK (credits >= 1),
        bonus_credits integer NOT NULL DEFAULT 0 CONSTRAINT packages_bonus_credits_check CHECK (bonus_credits >= 0),
        amount numeric(12,2) NOT NULL CONSTRAINT packages_amount_check CHECK (amount > 0),
        currency varchar(3) NOT NULL CONSTRAINT packages_currency_check CHECK (currency ~ '^[a-z]{3}$'),
        expiry_days integer NOT NULL DEFAULT 365
          CONSTRAINT packages_expiry_days_check CHECK (expiry_days BETWEEN 1 AND 3650),
        active boolean NOT NULL DEFAULT true,
        created_by varchar(50) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT packages_granted_check CHECK (credits::bigint + bonus_credits <= 2147483647)
      )`);
    await q.query(`CREATE INDEX packages_currency_idx ON packages (currency) WHERE active`);

    await q.query(`ALTER TABLE purchases
      ADD COLUMN package_id varchar(50) CONSTRAINT purchases_package_id_fkey REFERENCES packages (package_id),
      ADD COLUMN bonus_credits integer NOT NULL DEFAULT 0 CONSTRAINT purchases_bonus_credits_check CHECK (bonus_credits >= 0)`);
    await q.query(`ALTER TABLE purchases DROP CONSTRAINT purchases_taken_check,
      ADD CONSTRAINT purchases_taken_check CHECK (refunded_credits >= 0 AND debt_created >= 0 AND disputed_credits >= 0
          AND refunded_credits + debt_created <= credits + bonus_credits)`);

    await q.query(`
      CREATE TABLE promotions (
        code varchar(40) NOT NULL CONSTRAINT promotions_pkey PRIMARY KEY
          CONSTRAINT promotions_code_check CHECK (code ~ '^[A-Z0-9-]{4,40}$'),
        credits integer NOT NULL CONSTRAINT promotions_credits_check CHECK (credits >= 1),
        expiry_days integer NOT NULL CONSTRAINT promotions_expiry_days_check CHECK (expiry_days BETWEEN 1 AND 3650),
        starts_at timestamptz,
        ends_at timestamptz,
        max_redemptions integer CONSTRAINT promotions_max_redemptions_check CHECK (max_redemptions >= 1),
        per_account integer NOT NULL DEFAULT 1 CONSTRAINT promotions_per_account_check CHECK (per_account >= 1),
        accounts varchar(5) NOT NULL DEFAULT 'users'
          CONSTRAINT promotions_accounts_check CHECK (accounts IN ('users', 'orgs', 'any')),
        new_accounts_within_days integer
          CONSTRAINT promotions_new_accounts_check CHECK (new_accounts_within_days BETWEEN 1 AND 3650),
        active boolean NOT NULL DEFAULT true,
        redemptions integer NOT NULL DEFAULT 0,
        created_by varchar(50) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT promotions_window_check CHECK (starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at),
        CONSTRAINT promotions_redemptions_check
          CHECK (redemptions >= 0 AND (max_redemptions IS NULL OR redemptions <= max_redemptions))
      )`);
    await q.query(`CREATE INDEX promotions_created_idx ON promotions (created_at, code)`);
    await q.query(`
      CREATE TABLE promotion_redemptions (
        id uuid NOT NULL DEFAULT gen_random_uuid() CONSTRAINT promotion_redemptions_pkey PRIMARY KEY,
        code varchar(40) NOT NULL CONSTRAINT promotion_redemptions_code_fkey REFERENCES promotions (code),
        account_id bigint NOT NULL CONSTRAINT promotion_redemptions_account_id_fkey REFERENCES accounts (account_id),
        user_id varchar(50),
        org_id varchar(50),
        seq integer NOT NULL CONSTRAINT promotion_redemptions_seq_check CHECK (seq >= 1),
        allocation_id uuid NOT NULL
          CONSTRAINT promotion_redemptions_allocation_id_fkey REFERENCES credit_allocations (id),
        credits integer NOT NULL,
        expires_at timestamptz NOT NULL,
        redeemed_by varchar(50) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT promotion_redemptions_owner_check CHECK ((user_id IS NULL) <> (org_id IS NULL)),
        CONSTRAINT promotion_redemptions_seq_key UNIQUE (code, account_id, seq)
      )`);
    await q.query(`CREATE INDEX promotion_redemptions_code_idx ON promotion_redemptions (code, created_at, id)`);
    await q.query(`
      CREATE TABLE promotion_failures (
        principal varchar(120) NOT NULL CONSTRAINT promotion_failures_pkey PRIMARY KEY,
        window_start timestamptz NOT NULL,
        failures integer NOT NULL
      )`);

    await q.query(`ALTER TABLE credit_allocations DROP CONSTRAINT credit_allocations_source_check,
      ADD CONSTRAINT credit_allocations_source_check CHECK (source IN (${SOURCES_AFTER}))`);
    await q.query(`ALTER TABLE credit_allocations DROP CONSTRAINT credit_allocations_plan_check,
      ADD CONSTRAINT credit_allocations_plan_check CHECK (
        (source IN ('manual', 'transfer', 'purchase', 'promotion', 'signup') AND subscription_id IS NULL
            AND plan_id IS NULL AND period_start IS NULL)
        OR (source IN ('plan', 'rollover') AND subscription_id IS NOT NULL AND plan_id IS NOT NULL
            AND period_start IS NOT NULL))`);
    await q.query(
      `CREATE UNIQUE INDEX credit_allocations_signup_idx ON credit_allocations (account_id) WHERE source = 'signup'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    const [{ n }]: { n: string }[] = await q.query(
      `SELECT count(*) AS n FROM credit_allocations WHERE source IN ('promotion', 'signup')`,
    );
    if (Number(n) > 0) throw new Error('Promotional allocations exist: this migration cannot be reverted');
    await q.query(`DROP INDEX credit_allocations_signup_idx`);
    await q.query(`ALTER TABLE credit_allocations DROP CONSTRAINT credit_allocations_plan_check,
      ADD CONSTRAINT credit_allocations_plan_check CHECK (
        (source IN ('manual', 'transfer', 'purchase') AND subscription_id IS NULL AND plan_id IS NULL
            AND period_start IS NULL)
        OR (source IN ('plan', 'rollover') AND subscription_id IS NOT NULL AND plan_id IS NOT NULL
            AND period_start IS NOT NULL))`);
    await q.query(`ALTER TABLE credit_allocations DROP CONSTRAINT credit_allocations_source_check,
      ADD CONSTRAINT credit_allocations_source_check CHECK (source IN (${SOURCES_BEFORE}))`);
    await q.query(`DROP TABLE promotion_failures`);
    await q.query(`DROP TABLE promotion_redemptions`);
    await q.query(`DROP TABLE promotions`);
    await q.query(`ALTER TABLE purchases DROP CONSTRAINT purchases_taken_check,
      ADD CONSTRAINT purchases_taken_check CHECK (refunded_credits >= 0 AND debt_created >= 0 AND disputed_credits >= 0
          AND refunded_credits + debt_created <= credits)`);
    await q.query(`ALTER TABLE purchases DROP COLUMN bonus_credits, DROP COLUMN package_id`);
    await q.query(`DROP TABLE packages`);
  }
}
