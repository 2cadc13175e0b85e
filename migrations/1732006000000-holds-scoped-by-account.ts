import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The holds that named budget scopes, by account (docs/erasure.md "What is removed, what stays"): an
 * erasure rewrites the scopes of its account's holds, settled or not, and finds them through this
 * index instead of reading every hold. Partial: a hold without scopes (most) adds nothing to it.
 */
export class HoldsScopedByAccount1732006000000 implements MigrationInterface {
  name = 'HoldsScopedByAccount1732006000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX credit_holds_scoped_idx ON credit_holds (account_id) WHERE scopes IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX credit_holds_scoped_idx`);
  }
}
