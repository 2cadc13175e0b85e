import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The CHECK constraints of the tables every metered movement writes, with their lists as one array
 * constant. PostgreSQL keeps a CHECK as the text of its expression tree and, at every statement that
 * inserts or updates the table, reads that text back, folds its constants and compiles it: `x IN
 * ('a', 'b', …)` is kept as an ARRAY[] of one constant per value, each cast, and a take of one spent
 * about 48 µs of its 300 on its ledger line's and its lot's checks, most of it reading their text
 * back and folding it (docs/benchmarks.md "The checks every statement reads").
 * `x::text = ANY ('{a,b,…}'::text[])` is the same test, NULL included, kept as a single constant.
 * Names and meanings are unchanged: each table's checks are dropped and added again in one
 * `ALTER TABLE`, so its rows are checked in one pass.
 */
export const CHECKS: { table: string; name: string; before: string; after: string }[] = [
  {
    table: 'credit_ledger',
    name: 'credit_ledger_kind_check',
    before: `kind IN ('grant', 'debit', 'hold', 'release', 'expire', 'void', 'rollover', 'repay', 'overdraft', 'transfer_out',
   'transfer_in', 'refund', 'debt', 'freeze', 'unfreeze')`,
    after: `kind::text = ANY ('{grant,debit,hold,release,expire,void,rollover,repay,overdraft,transfer_out,transfer_in,refund,debt,freeze,unfreeze}'::text[])`,
  },
  {
    table: 'credit_ledger',
    name: 'credit_ledger_sign_check',
    before: `(kind IN ('grant', 'release', 'transfer_in', 'unfreeze') AND amount >= 0)
   OR (kind NOT IN ('grant', 'release', 'transfer_in', 'unfreeze') AND amount <= 0)`,
    after: `(kind::text = ANY ('{grant,release,transfer_in,unfreeze}'::text[]) AND amount >= 0)
   OR (kind::text <> ALL ('{grant,release,transfer_in,unfreeze}'::text[]) AND amount <= 0)`,
  },
  {
    table: 'credit_ledger',
    name: 'credit_ledger_allocation_check',
    before: `(kind IN ('overdraft', 'debt')) = (allocation_id IS NULL)`,
    after: `(kind::text = ANY ('{overdraft,debt}'::text[])) = (allocation_id IS NULL)`,
  },
  {
    table: 'credit_ledger',
    name: 'credit_ledger_category_check',
    before: `category IN ('purchased', 'sold', 'granted', 'recognized', 'expired', 'refunded', 'charged_back', 'voided',
  'transferred_in', 'transferred_out')`,
    after: `category::text = ANY ('{purchased,sold,granted,recognized,expired,refunded,charged_back,voided,transferred_in,transferred_out}'::text[])`,
  },
  {
    table: 'credit_allocations',
    name: 'credit_allocations_source_check',
    before: `source IN ('manual', 'plan', 'rollover', 'transfer', 'purchase', 'promotion', 'signup')`,
    after: `source::text = ANY ('{manual,plan,rollover,transfer,purchase,promotion,signup}'::text[])`,
  },
  {
    table: 'credit_allocations',
    name: 'credit_allocations_plan_check',
    before: `(source IN ('manual', 'transfer', 'purchase', 'promotion', 'signup') AND subscription_id IS NULL
       AND plan_id IS NULL AND period_start IS NULL)
   OR (source IN ('plan', 'rollover') AND subscription_id IS NOT NULL AND plan_id IS NOT NULL
       AND period_start IS NOT NULL)`,
    after: `(source::text = ANY ('{manual,transfer,purchase,promotion,signup}'::text[]) AND subscription_id IS NULL
       AND plan_id IS NULL AND period_start IS NULL)
   OR (source::text = ANY ('{plan,rollover}'::text[]) AND subscription_id IS NOT NULL AND plan_id IS NOT NULL
       AND period_start IS NOT NULL)`,
  },
  {
    table: 'usage_records',
    name: 'usage_records_billing_status_check',
    before: `billing_status IN ('billed', 'needs_review')`,
    after: `billing_status::text = ANY ('{billed,needs_review}'::text[])`,
  },
  {
    table: 'usage_records',
    name: 'usage_records_review_status_check',
    before: `review_status IN ('open', 'resolved')`,
    after: `review_status::text = ANY ('{open,resolved}'::text[])`,
  },
  {
    table: 'usage_records',
    name: 'usage_records_resolution_check',
    before: `resolution IN ('write_off', 'collect')`,
    after: `resolution::text = ANY ('{write_off,collect}'::text[])`,
  },
  {
    table: 'usage_records',
    name: 'usage_records_usage_source_check',
    before: `usage_source IN ('provider', 'reported', 'estimated')`,
    after: `usage_source::text = ANY ('{provider,reported,estimated}'::text[])`,
  },
  {
    table: 'usage_records',
    name: 'usage_records_termination_check',
    before: `termination IN ('completed', 'max_tokens', 'client_abort', 'upstream_error')`,
    after: `termination::text = ANY ('{completed,max_tokens,client_abort,upstream_error}'::text[])`,
  },
  {
    table: 'credit_cap_spend',
    name: 'credit_cap_spend_subject_kind_check',
    before: `subject_kind IN ('key', 'member')`,
    after: `subject_kind::text = ANY ('{key,member}'::text[])`,
  },
  {
    table: 'streaming_sessions',
    name: 'streaming_sessions_status_check',
    before: `status IN ('active', 'completed', 'failed', 'aborted', 'expired')`,
    after: `status::text = ANY ('{active,completed,failed,aborted,expired}'::text[])`,
  },
];

async function swap(q: QueryRunner, to: 'before' | 'after'): Promise<void> {
  for (const table of new Set(CHECKS.map((check) => check.table))) {
    const changes = CHECKS.filter((check) => check.table === table).flatMap((check) => [
      `DROP CONSTRAINT ${check.name}`,
      `ADD CONSTRAINT ${check.name} CHECK (${check[to]})`,
    ]);
    await q.query(`ALTER TABLE ${table} ${changes.join(', ')}`);
  }
}

export class CompactChecks1732000170000 implements MigrationInterface {
  name = 'CompactChecks1732000170000';

  async up(q: QueryRunner): Promise<void> {
    await swap(q, 'after');
  }

  async down(q: QueryRunner): Promise<void> {
    await swap(q, 'before');
  }
}
