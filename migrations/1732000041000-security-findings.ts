import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The security review's findings (docs/purchases.md "Taking credits back", "Disputes", "Stripe"):
 * - `credit_holds.taken_back`: the credits a refund or a lost dispute took back from an open session's
 *   hold, so its settlement can tell what it used of them (a shortfall for review) from an overrun;
 * - `credit_allocations.frozen`: a purchase's lot under dispute, so credits a session gives back to it
 *   are frozen as they arrive instead of becoming spendable;
 * - `(provider, provider_payment_id)` unique: one payment pays one purchase.
 */
export class SecurityFindings1732000041000 implements MigrationInterface {
  name = 'SecurityFindings1732000041000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE credit_holds ADD COLUMN taken_back integer NOT NULL DEFAULT 0
        CONSTRAINT credit_holds_taken_back_check CHECK (taken_back >= 0)`);
    await q.query(`ALTER TABLE credit_allocations ADD COLUMN frozen boolean NOT NULL DEFAULT false`);
    // Lots under an open dispute today (their freeze lines not yet undone) are frozen.
    await q.query(`
      UPDATE credit_allocations a SET frozen = true
        FROM purchases p WHERE a.purchase_id = p.id AND p.status = 'disputed'`);
    await q.query(`DROP INDEX purchases_payment_idx`);
    await q.query(`
      CREATE UNIQUE INDEX purchases_payment_key ON purchases (provider, provider_payment_id)
        WHERE provider_payment_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX purchases_payment_key`);
    await q.query(`
      CREATE INDEX purchases_payment_idx ON purchases (provider, provider_payment_id)
        WHERE provider_payment_id IS NOT NULL`);
    await q.query(`ALTER TABLE credit_allocations DROP COLUMN frozen`);
    await q.query(`ALTER TABLE credit_holds DROP COLUMN taken_back`);
  }
}
