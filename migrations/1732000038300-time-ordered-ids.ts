import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The tables that only grow get time-ordered ids (uuid_v7(), migration 1732000038200): a random
 * (version 4) key lands on a random leaf of each B-tree that holds it — the table's primary key, the
 * ledger's index of its lines by record, the audit log's index by target — so every insert touches
 * (and, after a checkpoint, writes whole to the WAL) another page, more of them as the table grows.
 * A version 7 key lands at the right-hand end. The service makes usage record ids the same way
 * (src/common/time-ordered-id.ts); these defaults cover every other insert. Existing ids stay.
 */
export class TimeOrderedIds1732000038300 implements MigrationInterface {
  name = 'TimeOrderedIds1732000038300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_records ALTER COLUMN id SET DEFAULT uuid_v7()`);
    await q.query(`ALTER TABLE audit_log ALTER COLUMN id SET DEFAULT uuid_v7()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE audit_log ALTER COLUMN id SET DEFAULT gen_random_uuid()`);
    await q.query(`ALTER TABLE usage_records ALTER COLUMN id SET DEFAULT gen_random_uuid()`);
  }
}
