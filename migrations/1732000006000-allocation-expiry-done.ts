import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Lets a debit's UPDATE of credit_allocations be HOT (heap-only: no new index entries).
 *
 * The expiry job's partial index `credit_allocations_due_idx (expires_at) WHERE remaining_credits > 0`
 * referenced the column every debit changes, so no allocation update could be HOT: each one added
 * entries to all three allocation indexes. The job now marks what it has processed with
 * `expiry_done` (set when it handles an expired allocation, whether or not credits were left; cleared
 * again if credits are ever put back into the allocation), and its index is partial on that flag,
 * which the hot path never changes. The index holds the unexpired allocations plus the expired ones
 * not yet processed, so the job still reads only what is due, never the expired history.
 *
 * fillfactor 85 leaves room on every heap page for the new row versions of HOT updates.
 */
export class AllocationExpiryDone1732000006000 implements MigrationInterface {
  name = 'AllocationExpiryDone1732000006000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_allocations ADD COLUMN expiry_done boolean NOT NULL DEFAULT false`);
    // Expired allocations that have nothing left are done; expired ones with credits wait for the job.
    await q.query(
      `UPDATE credit_allocations SET expiry_done = true WHERE expires_at <= now() AND remaining_credits = 0`,
    );
    await q.query(
      `CREATE INDEX credit_allocations_expiry_due_idx ON credit_allocations (expires_at) WHERE NOT expiry_done`,
    );
    await q.query(`DROP INDEX credit_allocations_due_idx`);
    await q.query(`ALTER TABLE credit_allocations SET (fillfactor = 85)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_allocations RESET (fillfactor)`);
    await q.query(
      `CREATE INDEX credit_allocations_due_idx ON credit_allocations (expires_at) WHERE remaining_credits > 0`,
    );
    await q.query(`DROP INDEX credit_allocations_expiry_due_idx`);
    await q.query(`ALTER TABLE credit_allocations DROP COLUMN expiry_done`);
  }
}
