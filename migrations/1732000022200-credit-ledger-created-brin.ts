import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The ledger by time, for the liability summary (GET /api/credits/summary reads the last 30 days of
 * entries). The ledger is append-only and written in time order, so a BRIN index (a few pages per
 * million rows, next to nothing per insert) finds a time range without a B-tree's write cost on the
 * money path.
 */
export class CreditLedgerCreatedBrin1732000022200 implements MigrationInterface {
  name = 'CreditLedgerCreatedBrin1732000022200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX credit_ledger_created_brin ON credit_ledger USING brin (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX credit_ledger_created_brin`);
  }
}
