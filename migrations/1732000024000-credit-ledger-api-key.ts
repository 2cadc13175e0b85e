import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Attribution on the ledger (CONTRACT "Attribution, throttling and operations"): the API key each
 * entry was made through, null for a JWT or a job. No foreign key: the ledger is append-only and
 * outlives the keys it names. Existing entries stay null (which key made them is not known).
 */
export class CreditLedgerApiKey1732000024000 implements MigrationInterface {
  name = 'CreditLedgerApiKey1732000024000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_ledger ADD COLUMN api_key_id uuid`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_ledger DROP COLUMN api_key_id`);
  }
}
