import type { MigrationInterface, QueryRunner } from 'typeorm';

const KINDS = `'grant', 'debit', 'hold', 'release', 'expire', 'void', 'rollover', 'repay', 'overdraft'`;

/**
 * Credit transfers between accounts (CONTRACT "Organisations", Transfers): `credit_transfers` (one row
 * per transfer, from one account to another) and `credit_transfer_lots` (one row per source allocation
 * the transfer drew on: the allocation it left, the allocation it arrived as, its credits and the
 * expiry both share). Two ledger kinds: `transfer_out` (≤ 0, on the source allocation) and
 * `transfer_in` (≥ 0, the one entry that fills the new allocation, as `grant` fills a granted one);
 * `credit_ledger.kind` grows to 20 characters for them (a wider varchar: no table rewrite). A new
 * allocation source `transfer`, which, like `manual`, belongs to no plan period.
 */
export class CreditTransfers1732000033000 implements MigrationInterface {
  name = 'CreditTransfers1732000033000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_ledger ALTER COLUMN kind TYPE varchar(20)`);
    await q.query(`ALTER TABLE credit_ledger DROP CONSTRAINT credit_ledger_kind_check`);
    await q.query(`ALTER TABLE credit_ledger DROP CONSTRAINT credit_ledger_sign_check`);
    // NOT VALID then VALIDATE: the scan of the existing ledger does not block its writers.
    await q.query(`ALTER TABLE credit_ledger ADD CONSTRAINT credit_ledger_kind_check
      CHECK (kind IN (${KINDS}, 'transfer_out', 'transfer_in')) NOT VALID`);
    await q.query(`ALTER TABLE credit_ledger ADD CONSTRAINT credit_ledger_sign_check
      CHECK ((kind IN ('grant', 'release', 'transfer_in') AND amount >= 0)
          OR (kind NOT IN ('grant', 'release', 'transfer_in') AND amount <= 0)) NOT VALID`);
    await q.query(`ALTER TABLE credit_ledger VALIDATE CONSTRAINT credit_ledger_kind_check`);
    await q.query(`ALTER TABLE credit_ledger VALIDATE CONSTRAINT credit_ledger_sign_check`);

    await q.query(`ALTER TABLE credit_allocations DROP CONSTRAINT credit_allocations_source_check`);
    await q.query(`ALTER TABLE credit_allocations DROP CONSTRAINT credit_allocations_plan_check`);
    await q.query(`ALTER TABLE credit_allocations ADD CONSTRAINT credit_allocations_source_check
      CHECK (source IN ('manual', 'plan', 'rollover', 'transfer')) NOT VALID`);
    await q.query(`ALTER TABLE credit_allocations ADD CONSTRAINT credit_allocations_plan_check
      CHECK ((source IN ('manual', 'transfer') AND subscription_id IS NULL AND plan_id IS NULL AND period_start IS NULL)
          OR (source IN ('plan', 'rollover') AND subscription_id IS NOT NULL AND plan_id IS NOT NULL
              AND period_start IS NOT NULL)) NOT VALID`);
    await q.query(`ALTER TABLE credit_allocations VALIDATE CONSTRAINT credit_allocations_source_check`);
    await q.query(`ALTER TABLE credit_allocations VALIDATE CONSTRAINT credit_allocations_plan_check`);

    await q.query(`
      CREATE TABLE credit_transfers (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        from_account_id bigint NOT NULL CONSTRAINT credit_transfers_from_account_id_fkey REFERENCES accounts (account_id),
        to_account_id bigint NOT NULL CONSTRAINT credit_transfers_to_account_id_fkey REFERENCES accounts (account_id),
        credits integer NOT NULL CONSTRAINT credit_transfers_credits_check CHECK (credits >= 1),
        reason text,
        created_by varchar(50) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT credit_transfers_pkey PRIMARY KEY (id),
        CONSTRAINT credit_transfers_accounts_check CHECK (from_account_id <> to_account_id)
      )`);
    // An account's transfers, either way, newest first (GET /api/credits/transfers).
    await q.query(`CREATE INDEX credit_transfers_from_idx ON credit_transfers (from_account_id, created_at, id)`);
    await q.query(`CREATE INDEX credit_transfers_to_idx ON credit_transfers (to_account_id, created_at, id)`);
    // Every transfer, newest first (the list without an account).
    await q.query(`CREATE INDEX credit_transfers_created_idx ON credit_transfers (created_at, id)`);
    await q.query(`
      CREATE TABLE credit_transfer_lots (
        transfer_id uuid NOT NULL CONSTRAINT credit_transfer_lots_transfer_id_fkey REFERENCES credit_transfers (id),
        lot integer NOT NULL,
        from_allocation_id uuid NOT NULL
          CONSTRAINT credit_transfer_lots_from_allocation_id_fkey REFERENCES credit_allocations (id),
        to_allocation_id uuid NOT NULL
          CONSTRAINT credit_transfer_lots_to_allocation_id_fkey REFERENCES credit_allocations (id),
        credits integer NOT NULL CONSTRAINT credit_transfer_lots_credits_check CHECK (credits >= 1),
        expires_at timestamptz NOT NULL,
        CONSTRAINT credit_transfer_lots_pkey PRIMARY KEY (transfer_id, lot),
        CONSTRAINT credit_transfer_lots_to_allocation_key UNIQUE (to_allocation_id)
      )`);
    // What left an allocation by transfer (reconcile's transfer_mismatch).
    await q.query(`CREATE INDEX credit_transfer_lots_from_idx ON credit_transfer_lots (from_allocation_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    const [{ n }]: { n: string }[] = await q.query(`SELECT count(*)::bigint AS n FROM credit_transfers`);
    if (Number(n) > 0) throw new Error('Credits were transferred: the transfers cannot be undone by a migration');
    await q.query(`DROP TABLE credit_transfer_lots`);
    await q.query(`DROP TABLE credit_transfers`);
    await q.query(`ALTER TABLE credit_allocations DROP CONSTRAINT credit_allocations_plan_check`);
    await q.query(`ALTER TABLE credit_allocations DROP CONSTRAINT credit_allocations_source_check`);
    await q.query(`ALTER TABLE credit_allocations ADD CONSTRAINT credit_allocations_source_check
      CHECK (source IN ('manual', 'plan', 'rollover'))`);
    await q.query(`ALTER TABLE credit_allocations ADD CONSTRAINT credit_allocations_plan_check
      CHECK ((source = 'manual' AND subscription_id IS NULL AND plan_id IS NULL AND period_start IS NULL)
          OR (source <> 'manual' AND subscription_id IS NOT NULL AND plan_id IS NOT NULL AND period_start IS NOT NULL))`);
    await q.query(`ALTER TABLE credit_ledger DROP CONSTRAINT credit_ledger_sign_check`);
    await q.query(`ALTER TABLE credit_ledger DROP CONSTRAINT credit_ledger_kind_check`);
    await q.query(`ALTER TABLE credit_ledger ADD CONSTRAINT credit_ledger_kind_check CHECK (kind IN (${KINDS}))`);
    await q.query(`ALTER TABLE credit_ledger ADD CONSTRAINT credit_ledger_sign_check
      CHECK ((kind IN ('grant', 'release') AND amount >= 0) OR (kind NOT IN ('grant', 'release') AND amount <= 0))`);
    await q.query(`ALTER TABLE credit_ledger ALTER COLUMN kind TYPE varchar(10)`);
  }
}
