import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reconciliations of Stripe's itemized payout reconciliation report (docs/reconciliation.md): one row
 * per report uploaded, found again by the SHA-256 of its bytes (the same report twice is one
 * reconciliation), with what matched and the lists finance must look at.
 */
export class FinanceReconciliations1732000053000 implements MigrationInterface {
  name = 'FinanceReconciliations1732000053000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE finance_reconciliations (
        id uuid NOT NULL DEFAULT gen_random_uuid() CONSTRAINT finance_reconciliations_pkey PRIMARY KEY,
        report_sha256 bytea NOT NULL
          CONSTRAINT finance_reconciliations_report_sha256_length CHECK (octet_length(report_sha256) = 32),
        row_count integer NOT NULL CONSTRAINT finance_reconciliations_row_count_check CHECK (row_count >= 0),
        matched integer NOT NULL CONSTRAINT finance_reconciliations_matched_check CHECK (matched >= 0),
        payouts jsonb NOT NULL,
        mismatched jsonb NOT NULL,
        unknown jsonb NOT NULL,
        missing jsonb NOT NULL,
        created_by varchar(50) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX finance_reconciliations_report_idx ON finance_reconciliations (report_sha256)`);
    await q.query(`CREATE INDEX finance_reconciliations_created_idx ON finance_reconciliations (created_at, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE finance_reconciliations`);
  }
}
