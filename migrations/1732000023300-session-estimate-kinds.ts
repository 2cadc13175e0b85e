import type { MigrationInterface, QueryRunner } from 'typeorm';

const KINDS = ['input', 'output', 'cache_read', 'cache_write', 'reasoning'].map((k) => `estimated_${k}_tokens`);

/**
 * A streaming session keeps its estimate's count of each token kind (CONTRACT "Token kinds": records
 * and settlements keep the count of each kind), so the record of a session that expires carries the
 * kinds it was charged for, and its provider cost prices each kind, as a finalized one does.
 *
 * All five are NULL for a session estimated with one count (and for every session before this
 * migration: their expiry records keep their total as before), or all five are set and add up to
 * `estimated_tokens`.
 */
export class SessionEstimateKinds1732000023300 implements MigrationInterface {
  name = 'SessionEstimateKinds1732000023300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE streaming_sessions
      ${KINDS.map((c) => `ADD COLUMN ${c} integer, ADD CONSTRAINT streaming_sessions_${c}_check CHECK (${c} >= 0)`).join(',\n      ')},
      ADD CONSTRAINT streaming_sessions_estimate_split_check CHECK (
        num_nulls(${KINDS.join(', ')}) = 5
        OR (num_nulls(${KINDS.join(', ')}) = 0 AND ${KINDS.join(' + ')} = estimated_tokens))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE streaming_sessions ${KINDS.map((c) => `DROP COLUMN ${c}`).join(', ')}`);
  }
}
