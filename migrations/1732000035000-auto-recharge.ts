import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Auto-recharge (CONTRACT v4 "Buying credits", docs/auto-recharge.md): an account's settings, the
 * attempts it opened (at most one open per account, by a partial unique index), and on
 * `credit_accounts` the one figure a take needs, `recharge_below` (the threshold while enabled, null
 * otherwise), so a take of an account without auto-recharge reads nothing more than it did.
 */
export class AutoRecharge1732000035000 implements MigrationInterface {
  name = 'AutoRecharge1732000035000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE auto_recharge_settings (
        account_id bigint CONSTRAINT auto_recharge_settings_pkey PRIMARY KEY
          CONSTRAINT auto_recharge_settings_account_id_fkey REFERENCES accounts (account_id),
        enabled boolean NOT NULL,
        below_credits integer NOT NULL CONSTRAINT auto_recharge_settings_below_check CHECK (below_credits >= 0),
        recharge_credits integer NOT NULL CONSTRAINT auto_recharge_settings_recharge_check CHECK (recharge_credits >= 1),
        max_credits_per_month integer CONSTRAINT auto_recharge_settings_month_check CHECK (max_credits_per_month >= 1),
        min_interval_minutes integer NOT NULL DEFAULT 60
          CONSTRAINT auto_recharge_settings_interval_check CHECK (min_interval_minutes >= 0),
        consecutive_failures integer NOT NULL DEFAULT 0
          CONSTRAINT auto_recharge_settings_failures_check CHECK (consecutive_failures >= 0),
        updated_by varchar(50) NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE auto_recharge_attempts (
        id uuid NOT NULL DEFAULT gen_random_uuid() CONSTRAINT auto_recharge_attempts_pkey PRIMARY KEY,
        account_id bigint NOT NULL CONSTRAINT auto_recharge_attempts_account_id_fkey REFERENCES accounts (account_id),
        credits integer NOT NULL CONSTRAINT auto_recharge_attempts_credits_check CHECK (credits >= 1),
        status varchar(10) NOT NULL DEFAULT 'open'
          CONSTRAINT auto_recharge_attempts_status_check CHECK (status IN ('open', 'succeeded', 'failed')),
        opened_at timestamptz NOT NULL DEFAULT now(),
        closed_at timestamptz,
        reason varchar(500),
        CONSTRAINT auto_recharge_attempts_closed_check CHECK ((status = 'open') = (closed_at IS NULL))
      )`);
    // At most one open attempt per account, whatever the code around it does.
    await q.query(`
      CREATE UNIQUE INDEX auto_recharge_attempts_open_key ON auto_recharge_attempts (account_id)
        WHERE status = 'open'`);
    // An account's attempts by time: the last opening (min interval), this month's (the cap), the GET.
    await q.query(
      `CREATE INDEX auto_recharge_attempts_account_time_idx ON auto_recharge_attempts (account_id, opened_at)`,
    );
    await q.query(`ALTER TABLE credit_accounts ADD COLUMN recharge_below integer`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_accounts DROP COLUMN recharge_below`);
    await q.query(`DROP TABLE auto_recharge_attempts`);
    await q.query(`DROP TABLE auto_recharge_settings`);
  }
}
