import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Corrections of usage records (docs/usage.md "Corrections"): the usage module's `usage_corrections`
 * (one row per correction of a record, its caller's id unique per record), the ledger's `correction`
 * kind (either sign) and `corrected` category, the line's `correction_id`, and the allocation source
 * `correction` (credits given back whose lot expired or was voided since). The record never changes.
 */
const LEDGER_KINDS = `grant,debit,hold,release,expire,void,rollover,repay,overdraft,transfer_out,transfer_in,refund,debt,freeze,unfreeze`;
const CATEGORIES = `purchased,sold,granted,recognized,expired,refunded,charged_back,voided,transferred_in,transferred_out`;
const SOURCES = `manual,plan,rollover,transfer,purchase,promotion,signup`;
const UNPLANNED = `manual,transfer,purchase,promotion,signup`;

function ledgerChecks(kinds: string, categories: string, signed: boolean): string {
  const either = signed ? ` OR kind::text = 'correction'` : '';
  return `DROP CONSTRAINT credit_ledger_kind_check, DROP CONSTRAINT credit_ledger_sign_check,
    DROP CONSTRAINT credit_ledger_category_check,
    ADD CONSTRAINT credit_ledger_kind_check CHECK (kind::text = ANY ('{${kinds}}'::text[])),
    ADD CONSTRAINT credit_ledger_sign_check CHECK ((kind::text = ANY ('{grant,release,transfer_in,unfreeze}'::text[]) AND amount >= 0)
   OR (kind::text <> ALL ('{grant,release,transfer_in,unfreeze,correction}'::text[]) AND amount <= 0)${either}),
    ADD CONSTRAINT credit_ledger_category_check CHECK (category::text = ANY ('{${categories}}'::text[]))`;
}

function allocationChecks(sources: string, unplanned: string): string {
  return `DROP CONSTRAINT credit_allocations_source_check, DROP CONSTRAINT credit_allocations_plan_check,
    ADD CONSTRAINT credit_allocations_source_check CHECK (source::text = ANY ('{${sources}}'::text[])),
    ADD CONSTRAINT credit_allocations_plan_check CHECK ((source::text = ANY ('{${unplanned}}'::text[]) AND subscription_id IS NULL
       AND plan_id IS NULL AND period_start IS NULL)
   OR (source::text = ANY ('{plan,rollover}'::text[]) AND subscription_id IS NOT NULL AND plan_id IS NOT NULL
       AND period_start IS NOT NULL))`;
}

export class UsageCorrections1732000858000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_ledger ADD correction_id uuid,
      ${ledgerChecks(`${LEDGER_KINDS},correction`, `${CATEGORIES},corrected`, true)}`);
    await q.query(
      `ALTER TABLE credit_allocations ${allocationChecks(`${SOURCES},correction`, `${UNPLANNED},correction`)}`,
    );
    await q.query(`CREATE TABLE usage_corrections (
      id uuid NOT NULL DEFAULT uuid_v7(),
      record_id uuid NOT NULL,
      correction_id varchar(107) NOT NULL,
      body_hash varchar(64) NOT NULL,
      previous_credits integer NOT NULL,
      credits integer NOT NULL,
      delta integer NOT NULL,
      shortfall_delta integer NOT NULL DEFAULT 0,
      review_delta integer NOT NULL DEFAULT 0,
      reason varchar(500) NOT NULL,
      created_by varchar(50) NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT usage_corrections_pkey PRIMARY KEY (id),
      CONSTRAINT usage_corrections_record_id_fkey FOREIGN KEY (record_id) REFERENCES usage_records (id),
      CONSTRAINT usage_corrections_record_correction_key UNIQUE (record_id, correction_id),
      CONSTRAINT usage_corrections_credits_check CHECK (credits >= 0 AND previous_credits >= 0),
      CONSTRAINT usage_corrections_delta_check CHECK (delta = credits - previous_credits))`);
    await q.query(`CREATE INDEX usage_corrections_created_idx ON usage_corrections (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE usage_corrections`);
    await q.query(`ALTER TABLE credit_allocations ${allocationChecks(SOURCES, UNPLANNED)}`);
    await q.query(
      `ALTER TABLE credit_ledger DROP COLUMN correction_id, ${ledgerChecks(LEDGER_KINDS, CATEGORIES, false)}`,
    );
  }
}
