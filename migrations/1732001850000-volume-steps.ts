import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Volume steps (docs/pricing.md "Volume steps"): a rule's `volume` (mode, period, steps), the step
 * that priced a record's last token (`usage_records.volume_step`), each account's period total per
 * model (`credit_volume_totals`, written by the take under the account's lock), and the give-back of a
 * `volume` step: allocations of source `volume` brought in by a `volume_adjustment` line.
 */
const KINDS = `grant,debit,hold,release,expire,void,rollover,repay,overdraft,transfer_out,transfer_in,refund,debt,freeze,unfreeze,correction`;
const SOURCES = `manual,plan,rollover,transfer,purchase,promotion,signup,correction`;
const UNPLANNED = `manual,transfer,purchase,promotion,signup,correction`;
const POSITIVE = `grant,release,transfer_in,unfreeze`;

function ledgerChecks(kinds: string, positive: string): string {
  return `DROP CONSTRAINT credit_ledger_kind_check, DROP CONSTRAINT credit_ledger_sign_check,
    ADD CONSTRAINT credit_ledger_kind_check CHECK (kind::text = ANY ('{${kinds}}'::text[])),
    ADD CONSTRAINT credit_ledger_sign_check CHECK ((kind::text = ANY ('{${positive}}'::text[]) AND amount >= 0)
   OR (kind::text <> ALL ('{${positive},correction}'::text[]) AND amount <= 0) OR kind::text = 'correction')`;
}

function allocationChecks(sources: string, unplanned: string): string {
  return `DROP CONSTRAINT credit_allocations_source_check, DROP CONSTRAINT credit_allocations_plan_check,
    ADD CONSTRAINT credit_allocations_source_check CHECK (source::text = ANY ('{${sources}}'::text[])),
    ADD CONSTRAINT credit_allocations_plan_check CHECK ((source::text = ANY ('{${unplanned}}'::text[]) AND subscription_id IS NULL
       AND plan_id IS NULL AND period_start IS NULL)
   OR (source::text = ANY ('{plan,rollover}'::text[]) AND subscription_id IS NOT NULL AND plan_id IS NOT NULL
       AND period_start IS NOT NULL))`;
}

export class VolumeSteps1732001850000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE pricing_rules ADD COLUMN volume jsonb`);
    await q.query(`ALTER TABLE usage_records ADD COLUMN volume_step smallint`);
    await q.query(`CREATE TABLE credit_volume_totals (
        account_id   bigint      NOT NULL,
        model_id     varchar(100) NOT NULL,
        period_start timestamptz NOT NULL,
        period_end   timestamptz NOT NULL,
        tokens       bigint      NOT NULL,
        base         numeric     NOT NULL,
        cost         numeric     NOT NULL,
        updated_at   timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT credit_volume_totals_pkey PRIMARY KEY (account_id, model_id, period_start),
        CONSTRAINT credit_volume_totals_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (account_id),
        CONSTRAINT credit_volume_totals_tokens_check CHECK (tokens >= 0 AND base >= 0 AND cost >= 0))`);
    await q.query(
      `ALTER TABLE credit_ledger ${ledgerChecks(`${KINDS},volume_adjustment`, `${POSITIVE},volume_adjustment`)}`,
    );
    await q.query(`ALTER TABLE credit_allocations ${allocationChecks(`${SOURCES},volume`, `${UNPLANNED},volume`)}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_ledger ${ledgerChecks(KINDS, POSITIVE)}`);
    await q.query(`ALTER TABLE credit_allocations ${allocationChecks(SOURCES, UNPLANNED)}`);
    await q.query(`DROP TABLE credit_volume_totals`);
    await q.query(`ALTER TABLE usage_records DROP COLUMN volume_step`);
    await q.query(`ALTER TABLE pricing_rules DROP COLUMN volume`);
  }
}
