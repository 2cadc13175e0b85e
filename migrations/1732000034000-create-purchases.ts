import type { MigrationInterface, QueryRunner } from 'typeorm';

// After the transfers' migration (1732000033000), which added transfer_out and transfer_in.
const KINDS_BEFORE = `'grant', 'debit', 'hold', 'release', 'expire', 'void', 'rollover', 'repay', 'overdraft', 'transfer_out', 'transfer_in'`;
const KINDS_AFTER = `${KINDS_BEFORE}, 'refund', 'debt', 'freeze', 'unfreeze'`;

/**
 * Buying credits (CONTRACT v4 "Buying credits"): `purchases` (one per checkout, its state machine and
 * what was taken back), `purchase_refunds` (each take-back: an admin's refund, a provider's refund, a
 * chargeback), `purchase_provider_events` (provider event ids seen: a redelivered webhook changes
 * nothing). `credit_allocations.purchase_id` is UNIQUE: a purchase grants at most one allocation,
 * whatever the code does. The ledger gains four kinds: `refund` (credits taken back from the
 * purchase's allocation), `debt` (what was already spent, owed by the account; no allocation, like
 * `overdraft`), `freeze` / `unfreeze` (a disputed purchase's credits out of the balance and back).
 */
export class CreatePurchases1732000034000 implements MigrationInterface {
  name = 'CreatePurchases1732000034000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE purchases (
        id uuid NOT NULL DEFAULT gen_random_uuid() CONSTRAINT purchases_pkey PRIMARY KEY,
        account_id bigint NOT NULL CONSTRAINT purchases_account_id_fkey REFERENCES accounts (account_id),
        user_id varchar(50) CONSTRAINT purchases_user_id_fkey REFERENCES user_accounts (user_id),
        org_id varchar(50) CONSTRAINT purchases_org_id_fkey REFERENCES orgs (org_id),
        credits integer NOT NULL CONSTRAINT purchases_credits_check CHECK (credits >= 1),
        amount numeric(12,2) NOT NULL CONSTRAINT purchases_amount_check CHECK (amount > 0),
        currency varchar(3) NOT NULL CONSTRAINT purchases_currency_check CHECK (currency ~ '^[a-z]{3}$'),
        provider varchar(30) NOT NULL,
        provider_ref varchar(255),
        provider_payment_id varchar(255),
        expiry_days integer NOT NULL CONSTRAINT purchases_expiry_days_check CHECK (expiry_days BETWEEN 1 AND 3650),
        status varchar(20) NOT NULL DEFAULT 'pending_payment' CONSTRAINT purchases_status_check CHECK (status IN
          ('pending_payment', 'paid', 'failed', 'expired', 'partially_refunded', 'refunded', 'disputed', 'charged_back')),
        status_before_dispute varchar(20),
        refunded_credits integer NOT NULL DEFAULT 0,
        refunded_amount numeric(12,2) NOT NULL DEFAULT '0',
        provider_refunded_amount numeric(12,2) NOT NULL DEFAULT '0',
        disputed_credits integer NOT NULL DEFAULT 0,
        debt_created integer NOT NULL DEFAULT 0,
        auto_recharge_attempt_id uuid,
        reason text,
        created_by varchar(50) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        paid_at timestamptz,
        closed_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT purchases_owner_check CHECK ((user_id IS NULL) <> (org_id IS NULL)),
        CONSTRAINT purchases_taken_check CHECK (refunded_credits >= 0 AND debt_created >= 0 AND disputed_credits >= 0
          AND refunded_credits + debt_created <= credits),
        CONSTRAINT purchases_provider_ref_key UNIQUE (provider, provider_ref)
      )`);
    await q.query(`CREATE INDEX purchases_account_idx ON purchases (account_id, created_at, id)`);
    await q.query(`CREATE INDEX purchases_created_idx ON purchases (created_at, id)`);
    await q.query(
      `CREATE INDEX purchases_payment_idx ON purchases (provider, provider_payment_id) WHERE provider_payment_id IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE purchase_refunds (
        id uuid NOT NULL DEFAULT gen_random_uuid() CONSTRAINT purchase_refunds_pkey PRIMARY KEY,
        purchase_id uuid NOT NULL CONSTRAINT purchase_refunds_purchase_id_fkey REFERENCES purchases (id),
        origin varchar(20) NOT NULL
          CONSTRAINT purchase_refunds_origin_check CHECK (origin IN ('admin', 'provider', 'chargeback')),
        credits integer NOT NULL CONSTRAINT purchase_refunds_credits_check CHECK (credits >= 0),
        debt integer NOT NULL DEFAULT 0 CONSTRAINT purchase_refunds_debt_check CHECK (debt >= 0),
        amount numeric(12,2) NOT NULL CONSTRAINT purchase_refunds_amount_check CHECK (amount >= 0),
        reason text,
        created_by varchar(50) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX purchase_refunds_purchase_idx ON purchase_refunds (purchase_id)`);
    await q.query(`
      CREATE TABLE purchase_provider_events (
        provider varchar(30) NOT NULL,
        event_id varchar(255) NOT NULL,
        type varchar(100) NOT NULL,
        purchase_id uuid,
        received_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT purchase_provider_events_pkey PRIMARY KEY (provider, event_id)
      )`);

    await q.query(`ALTER TABLE credit_allocations ADD COLUMN purchase_id uuid
      CONSTRAINT credit_allocations_purchase_id_fkey REFERENCES purchases (id)`);
    await q.query(
      `ALTER TABLE credit_allocations ADD CONSTRAINT credit_allocations_purchase_id_key UNIQUE (purchase_id)`,
    );
    await q.query(`ALTER TABLE credit_allocations DROP CONSTRAINT credit_allocations_source_check,
      ADD CONSTRAINT credit_allocations_source_check CHECK (source IN ('manual', 'plan', 'rollover', 'transfer', 'purchase'))`);
    await q.query(`ALTER TABLE credit_allocations DROP CONSTRAINT credit_allocations_plan_check,
      ADD CONSTRAINT credit_allocations_plan_check CHECK (
        (source IN ('manual', 'transfer', 'purchase') AND subscription_id IS NULL AND plan_id IS NULL
            AND period_start IS NULL)
        OR (source IN ('plan', 'rollover') AND subscription_id IS NOT NULL AND plan_id IS NOT NULL
            AND period_start IS NOT NULL))`);
    await q.query(`ALTER TABLE credit_allocations ADD CONSTRAINT credit_allocations_purchase_check
      CHECK ((source = 'purchase') = (purchase_id IS NOT NULL))`);

    await q.query(`ALTER TABLE credit_ledger DROP CONSTRAINT credit_ledger_kind_check,
      ADD CONSTRAINT credit_ledger_kind_check CHECK (kind IN (${KINDS_AFTER}))`);
    await q.query(`ALTER TABLE credit_ledger DROP CONSTRAINT credit_ledger_sign_check,
      ADD CONSTRAINT credit_ledger_sign_check CHECK ((kind IN ('grant', 'release', 'transfer_in', 'unfreeze') AND amount >= 0)
        OR (kind NOT IN ('grant', 'release', 'transfer_in', 'unfreeze') AND amount <= 0))`);
    await q.query(`ALTER TABLE credit_ledger DROP CONSTRAINT credit_ledger_allocation_check,
      ADD CONSTRAINT credit_ledger_allocation_check CHECK ((kind IN ('overdraft', 'debt')) = (allocation_id IS NULL))`);
  }

  async down(q: QueryRunner): Promise<void> {
    const [{ n }]: { n: string }[] = await q.query(
      `SELECT count(*) AS n FROM credit_ledger WHERE kind IN ('refund', 'debt', 'freeze', 'unfreeze')`,
    );
    if (Number(n) > 0) throw new Error('Ledger entries of purchases exist: this migration cannot be reverted');
    await q.query(`ALTER TABLE credit_ledger DROP CONSTRAINT credit_ledger_allocation_check,
      ADD CONSTRAINT credit_ledger_allocation_check CHECK ((kind = 'overdraft') = (allocation_id IS NULL))`);
    await q.query(`ALTER TABLE credit_ledger DROP CONSTRAINT credit_ledger_sign_check,
      ADD CONSTRAINT credit_ledger_sign_check CHECK ((kind IN ('grant', 'release', 'transfer_in') AND amount >= 0)
        OR (kind NOT IN ('grant', 'release', 'transfer_in') AND amount <= 0))`);
    await q.query(`ALTER TABLE credit_ledger DROP CONSTRAINT credit_ledger_kind_check,
      ADD CONSTRAINT credit_ledger_kind_check CHECK (kind IN (${KINDS_BEFORE}))`);
    await q.query(`ALTER TABLE credit_allocations DROP CONSTRAINT credit_allocations_purchase_check`);
    await q.query(`ALTER TABLE credit_allocations DROP CONSTRAINT credit_allocations_plan_check,
      ADD CONSTRAINT credit_allocations_plan_check CHECK (
        (source IN ('manual', 'transfer') AND subscription_id IS NULL AND plan_id IS NULL AND period_start IS NULL)
        OR (source IN ('plan', 'rollover') AND subscription_id IS NOT NULL AND plan_id IS NOT NULL
            AND period_start IS NOT NULL))`);
    await q.query(`ALTER TABLE credit_allocations DROP CONSTRAINT credit_allocations_source_check,
      ADD CONSTRAINT credit_allocations_source_check CHECK (source IN ('manual', 'plan', 'rollover', 'transfer'))`);
    await q.query(`ALTER TABLE credit_allocations DROP COLUMN purchase_id`);
    await q.query(`DROP TABLE purchase_provider_events`);
    await q.query(`DROP TABLE purchase_refunds`);
    await q.query(`DROP TABLE purchases`);
  }
}
