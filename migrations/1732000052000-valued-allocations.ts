import type { MigrationInterface, QueryRunner } from 'typeorm';

const CATEGORIES = `'purchased', 'sold', 'granted', 'recognized', 'expired', 'refunded', 'charged_back', 'voided',
  'transferred_in', 'transferred_out'`;

/**
 * What the credits are worth (docs/finance.md): an allocation's money (`value_minor`, what was paid
 * for it, and `value_remaining_minor`, the money of its credits left, both in the currency's minor
 * units) and its `currency`, all three null for a promotional allocation; a plan's price; a ledger
 * line's money (`value_minor`, signed like its credits), `currency`, finance `category` (null: a
 * movement inside the liability, such as a hold or a freeze) and `booked_at` (the instant finance
 * books it when not its created_at: an expiry's expires_at). The partial index serves the
 * roll-forward and the liability (every categorized line by currency and booking instant, covering
 * the figures), the frozen one a dispute's part of it; credit_holds gains one on settled_at (a
 * settlement books the credits it used).
 */
export class ValuedAllocations1732000052000 implements MigrationInterface {
  name = 'ValuedAllocations1732000052000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_allocations
      ADD COLUMN value_minor bigint,
      ADD COLUMN value_remaining_minor bigint,
      ADD COLUMN currency varchar(3),
      ADD CONSTRAINT credit_allocations_value_check CHECK (
        (value_minor IS NULL AND value_remaining_minor IS NULL AND currency IS NULL)
        OR (value_minor >= 0 AND value_remaining_minor BETWEEN 0 AND value_minor AND currency ~ '^[a-z]{3}$'))`);
    await q.query(`ALTER TABLE plans
      ADD COLUMN price_minor bigint,
      ADD COLUMN price_currency varchar(3),
      ADD CONSTRAINT plans_price_check CHECK (
        (price_minor IS NULL AND price_currency IS NULL) OR (price_minor > 0 AND price_currency ~ '^[a-z]{3}$'))`);
    await q.query(`ALTER TABLE credit_ledger
      ADD COLUMN value_minor bigint,
      ADD COLUMN currency varchar(3),
      ADD COLUMN category varchar(20),
      ADD COLUMN booked_at timestamptz,
      ADD CONSTRAINT credit_ledger_category_check CHECK (category IN (${CATEGORIES})),
      ADD CONSTRAINT credit_ledger_value_check CHECK ((value_minor IS NULL) = (currency IS NULL))`);
    await q.query(`CREATE INDEX credit_ledger_finance_idx ON credit_ledger (currency, (COALESCE(booked_at, created_at)))
      INCLUDE (category, value_minor, amount, account_id) WHERE category IS NOT NULL`);
    await q.query(`CREATE INDEX credit_ledger_frozen_idx ON credit_ledger (currency, created_at)
      INCLUDE (value_minor, account_id) WHERE kind IN ('freeze', 'unfreeze') AND currency IS NOT NULL`);
    await q.query(`CREATE INDEX credit_holds_settled_idx ON credit_holds (settled_at) WHERE settled_at IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX credit_holds_settled_idx`);
    await q.query(`DROP INDEX credit_ledger_frozen_idx`);
    await q.query(`DROP INDEX credit_ledger_finance_idx`);
    await q.query(`ALTER TABLE credit_ledger DROP CONSTRAINT credit_ledger_value_check,
      DROP CONSTRAINT credit_ledger_category_check, DROP COLUMN booked_at, DROP COLUMN category,
      DROP COLUMN currency, DROP COLUMN value_minor`);
    await q.query(
      `ALTER TABLE plans DROP CONSTRAINT plans_price_check, DROP COLUMN price_currency, DROP COLUMN price_minor`,
    );
    await q.query(`ALTER TABLE credit_allocations DROP CONSTRAINT credit_allocations_value_check,
      DROP COLUMN currency, DROP COLUMN value_remaining_minor, DROP COLUMN value_minor`);
  }
}
