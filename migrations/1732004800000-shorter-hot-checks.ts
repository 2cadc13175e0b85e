import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Three CHECK constraints of the tables the streaming pair and every take write, said in fewer
 * nodes. PostgreSQL reads every check of a table back from the text of its expression tree, folds it
 * and compiles it at each statement that inserts into or updates the table (docs/benchmarks.md "The
 * checks every statement reads"): the pair's insert and update of its session read
 * `streaming_sessions`' checks twice, the hold's and the settlement's ledger lines the ledger's twice.
 * The same five columns named twice (`num_nulls(…) = 5 OR num_nulls(…) = 0 AND …`, `… IS NULL AND …
 * OR … IS NOT NULL AND …`) and two lists of kinds where one CASE needs one are said once. Names and
 * the rows each accepts are unchanged (the columns these read that are NOT NULL: status,
 * estimated_tokens, kind, amount; test/shorter-checks.int-spec.ts evaluates each before and after on
 * every combination of its columns' values). The split's sum is added before its NULLs are counted:
 * a row with some of the five estimates NULL and the others past an integer between them is refused by
 * the overflow instead of by the check (the service writes all five or none, each bounded). Each
 * table's checks are dropped and added again in one `ALTER TABLE`, so its rows are checked in one pass.
 */
export const SHORTER_CHECKS: { table: string; name: string; before: string; after: string }[] = [
  {
    table: 'streaming_sessions',
    name: 'streaming_sessions_settled_check',
    before: `(status::text = 'active' AND settled_at IS NULL AND actual_credits IS NULL AND refund IS NULL AND shortfall IS NULL
       AND usage_record_id IS NULL)
   OR (status::text <> 'active' AND settled_at IS NOT NULL AND actual_credits IS NOT NULL AND refund IS NOT NULL
       AND shortfall IS NOT NULL AND usage_record_id IS NOT NULL)`,
    after: `num_nonnulls(settled_at, actual_credits, refund, shortfall, usage_record_id)
   = CASE WHEN status::text = 'active' THEN 0 ELSE 5 END`,
  },
  {
    table: 'streaming_sessions',
    name: 'streaming_sessions_estimate_split_check',
    before: `num_nulls(estimated_input_tokens, estimated_output_tokens, estimated_cache_read_tokens, estimated_cache_write_tokens,
             estimated_reasoning_tokens) = 5
   OR (num_nulls(estimated_input_tokens, estimated_output_tokens, estimated_cache_read_tokens, estimated_cache_write_tokens,
                 estimated_reasoning_tokens) = 0
       AND estimated_input_tokens + estimated_output_tokens + estimated_cache_read_tokens + estimated_cache_write_tokens
           + estimated_reasoning_tokens = estimated_tokens)`,
    after: `COALESCE(estimated_input_tokens + estimated_output_tokens + estimated_cache_read_tokens + estimated_cache_write_tokens
             + estimated_reasoning_tokens = estimated_tokens,
             num_nonnulls(estimated_input_tokens, estimated_output_tokens, estimated_cache_read_tokens,
                          estimated_cache_write_tokens, estimated_reasoning_tokens) = 0)`,
  },
  {
    table: 'credit_ledger',
    name: 'credit_ledger_sign_check',
    before: `(kind::text = ANY ('{grant,release,transfer_in,unfreeze,volume_adjustment}'::text[]) AND amount >= 0)
   OR (kind::text <> ALL ('{grant,release,transfer_in,unfreeze,volume_adjustment,correction}'::text[]) AND amount <= 0)
   OR kind::text = 'correction'`,
    after: `CASE WHEN kind::text = 'correction' THEN true
     WHEN kind::text = ANY ('{grant,release,transfer_in,unfreeze,volume_adjustment}'::text[]) THEN amount >= 0
     ELSE amount <= 0 END`,
  },
];

async function swap(q: QueryRunner, to: 'before' | 'after'): Promise<void> {
  for (const table of new Set(SHORTER_CHECKS.map((check) => check.table))) {
    const changes = SHORTER_CHECKS.filter((check) => check.table === table).flatMap((check) => [
      `DROP CONSTRAINT ${check.name}`,
      `ADD CONSTRAINT ${check.name} CHECK (${check[to]})`,
    ]);
    await q.query(`ALTER TABLE ${table} ${changes.join(', ')}`);
  }
}

export class ShorterHotChecks1732004800000 implements MigrationInterface {
  name = 'ShorterHotChecks1732004800000';

  async up(q: QueryRunner): Promise<void> {
    await swap(q, 'after');
  }

  async down(q: QueryRunner): Promise<void> {
    await swap(q, 'before');
  }
}
