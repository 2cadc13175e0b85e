import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The `x >= 0` checks of the rows every record and every streaming pair write, one a table. PostgreSQL
 * reads each CHECK of a table back from the text of its expression tree and compiles it at every
 * statement that inserts into or updates the table (docs/benchmarks.md "The checks every statement
 * reads"): eleven such checks of `streaming_sessions` were read at the pair's insert and again at its
 * update, eight of `usage_records` at every record, two of `credit_holds` at a hold and its
 * settlement. Each table's are now one check, `LEAST(…) >= 0`: LEAST skips NULLs, so a row passes
 * exactly when each of its columns is NULL or at least 0, as it did (test/counts-checks.int-spec.ts
 * evaluates both forms on every combination of values). A violation now names the table's
 * `…_counts_check`; the service writes none (every count is validated before its statement).
 */
export const COUNTS_CHECKS: { table: string; name: string; columns: { check: string; column: string }[] }[] = [
  {
    table: 'streaming_sessions',
    name: 'streaming_sessions_counts_check',
    columns: [
      { check: 'streaming_sessions_estimated_tokens_check', column: 'estimated_tokens' },
      { check: 'streaming_sessions_estimated_credits_check', column: 'estimated_credits' },
      { check: 'streaming_sessions_actual_tokens_check', column: 'actual_tokens' },
      { check: 'streaming_sessions_actual_credits_check', column: 'actual_credits' },
      { check: 'streaming_sessions_refund_check', column: 'refund' },
      { check: 'streaming_sessions_shortfall_check', column: 'shortfall' },
      { check: 'streaming_sessions_estimated_input_tokens_check', column: 'estimated_input_tokens' },
      { check: 'streaming_sessions_estimated_output_tokens_check', column: 'estimated_output_tokens' },
      { check: 'streaming_sessions_estimated_cache_read_tokens_check', column: 'estimated_cache_read_tokens' },
      { check: 'streaming_sessions_estimated_cache_write_tokens_check', column: 'estimated_cache_write_tokens' },
      { check: 'streaming_sessions_estimated_reasoning_tokens_check', column: 'estimated_reasoning_tokens' },
    ],
  },
  {
    table: 'usage_records',
    name: 'usage_records_counts_check',
    columns: [
      { check: 'usage_records_credits_check', column: 'credits' },
      { check: 'usage_records_tokens_check', column: 'tokens' },
      { check: 'usage_records_input_tokens_check', column: 'input_tokens' },
      { check: 'usage_records_output_tokens_check', column: 'output_tokens' },
      { check: 'usage_records_cache_read_tokens_check', column: 'cache_read_tokens' },
      { check: 'usage_records_cache_write_tokens_check', column: 'cache_write_tokens' },
      { check: 'usage_records_reasoning_tokens_check', column: 'reasoning_tokens' },
      { check: 'usage_records_shortfall_check', column: 'shortfall' },
    ],
  },
  {
    table: 'credit_holds',
    name: 'credit_holds_counts_check',
    columns: [
      { check: 'credit_holds_outstanding_check', column: 'outstanding' },
      { check: 'credit_holds_taken_back_check', column: 'taken_back' },
    ],
  },
];

/** The one check of a table's counts. */
export const countsCheck = (columns: { column: string }[]): string =>
  `LEAST(${columns.map((c) => c.column).join(', ')}) >= 0`;

export class CountsChecks1732004900000 implements MigrationInterface {
  name = 'CountsChecks1732004900000';

  async up(q: QueryRunner): Promise<void> {
    for (const { table, name, columns } of COUNTS_CHECKS) {
      const drops = columns.map((c) => `DROP CONSTRAINT ${c.check}`);
      await q.query(
        `ALTER TABLE ${table} ${[...drops, `ADD CONSTRAINT ${name} CHECK (${countsCheck(columns)})`].join(', ')}`,
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const { table, name, columns } of COUNTS_CHECKS) {
      const adds = columns.map((c) => `ADD CONSTRAINT ${c.check} CHECK (${c.column} >= 0)`);
      await q.query(`ALTER TABLE ${table} ${[`DROP CONSTRAINT ${name}`, ...adds].join(', ')}`);
    }
  }
}
