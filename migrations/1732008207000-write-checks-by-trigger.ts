import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The checks of the rows every record, hold and settlement writes, by trigger (docs/benchmarks.md
 * "The checks every statement reads"). PostgreSQL reads every CHECK of a table back from its stored
 * text, folds and compiles it at each statement that inserts into or updates the table: a sixth of a
 * lone record's work and of a streaming pair's. The checks of `credit_ledger`, `credit_allocations`,
 * `usage_records` and `streaming_sessions` move to the functions of migration 1732008206000, fired on
 * an insert and on an update that sets a column they read, refusing as the checks did (SQLSTATE 23514,
 * the same constraint names; an unknown allocation source breaks `credit_allocations_plan_check`, which
 * was always named before `credit_allocations_source_check`, so that one is not kept). The checks made from the token kinds' list stay CHECKs
 * (`usage_records_counts_check`, `streaming_sessions_counts_check`,
 * `streaming_sessions_estimate_split_check`), as does every check of the other tables.
 */
export class WriteChecksByTrigger1732008207000 implements MigrationInterface {
  name = 'WriteChecksByTrigger1732008207000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_ledger DROP CONSTRAINT credit_ledger_kind_check,
                     DROP CONSTRAINT credit_ledger_sign_check,
                     DROP CONSTRAINT credit_ledger_allocation_check,
                     DROP CONSTRAINT credit_ledger_category_check,
                     DROP CONSTRAINT credit_ledger_value_check`);
    await q.query(`CREATE TRIGGER credit_ledger_check
                     BEFORE INSERT OR UPDATE OF kind, amount, allocation_id, category, value_minor, currency
                     ON credit_ledger FOR EACH ROW EXECUTE FUNCTION credit_ledger_check()`);
    await q.query(`ALTER TABLE credit_allocations DROP CONSTRAINT credit_allocations_total_check,
                     DROP CONSTRAINT credit_allocations_remaining_check,
                     DROP CONSTRAINT credit_allocations_source_check,
                     DROP CONSTRAINT credit_allocations_plan_check,
                     DROP CONSTRAINT credit_allocations_purchase_check,
                     DROP CONSTRAINT credit_allocations_value_check`);
    await q.query(`CREATE TRIGGER credit_allocations_check
                     BEFORE INSERT OR UPDATE OF total_credits, remaining_credits, source, subscription_id, plan_id,
                       period_start, purchase_id, value_minor, value_remaining_minor, currency
                     ON credit_allocations FOR EACH ROW EXECUTE FUNCTION credit_allocations_check()`);
    await q.query(`ALTER TABLE usage_records DROP CONSTRAINT usage_records_provider_cost_check,
                     DROP CONSTRAINT usage_records_billing_status_check,
                     DROP CONSTRAINT usage_records_review_status_check,
                     DROP CONSTRAINT usage_records_resolution_check,
                     DROP CONSTRAINT usage_records_usage_source_check,
                     DROP CONSTRAINT usage_records_termination_check,
                     DROP CONSTRAINT usage_records_provider_usage_check`);
    await q.query(`CREATE TRIGGER usage_records_check
                     BEFORE INSERT OR UPDATE OF provider_cost, billing_status, review_status, resolution, usage_source,
                       termination, provider_usage
                     ON usage_records FOR EACH ROW EXECUTE FUNCTION usage_records_check()`);
    await q.query(`ALTER TABLE streaming_sessions DROP CONSTRAINT streaming_sessions_status_check,
                     DROP CONSTRAINT streaming_sessions_allocated_check,
                     DROP CONSTRAINT streaming_sessions_expiry_check,
                     DROP CONSTRAINT streaming_sessions_settled_check,
                     DROP CONSTRAINT streaming_sessions_refund_within_hold_check,
                     DROP CONSTRAINT streaming_sessions_record_extras_check`);
    await q.query(`CREATE TRIGGER streaming_sessions_check
                     BEFORE INSERT OR UPDATE OF status, allocated_credits, estimated_credits, expires_at, started_at,
                       settled_at, actual_credits, refund, shortfall, usage_record_id, record_extras
                     ON streaming_sessions FOR EACH ROW EXECUTE FUNCTION streaming_sessions_check()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER streaming_sessions_check ON streaming_sessions`);
    await q.query(`ALTER TABLE streaming_sessions
                     ADD CONSTRAINT streaming_sessions_status_check
                       CHECK (status::text = ANY ('{active,completed,failed,aborted,expired}'::text[])),
                     ADD CONSTRAINT streaming_sessions_allocated_check CHECK (allocated_credits >= estimated_credits),
                     ADD CONSTRAINT streaming_sessions_expiry_check CHECK (expires_at > started_at),
                     ADD CONSTRAINT streaming_sessions_settled_check
                       CHECK (num_nonnulls(settled_at, actual_credits, refund, shortfall, usage_record_id)
                              = CASE WHEN status::text = 'active' THEN 0 ELSE 5 END),
                     ADD CONSTRAINT streaming_sessions_refund_within_hold_check CHECK (refund <= allocated_credits),
                     ADD CONSTRAINT streaming_sessions_record_extras_check CHECK (jsonb_typeof(record_extras) = 'object')`);
    await q.query(`DROP TRIGGER usage_records_check ON usage_records`);
    await q.query(`ALTER TABLE usage_records
                     ADD CONSTRAINT usage_records_provider_cost_check CHECK (provider_cost >= 0),
                     ADD CONSTRAINT usage_records_billing_status_check
                       CHECK (billing_status::text = ANY ('{billed,needs_review}'::text[])),
                     ADD CONSTRAINT usage_records_review_status_check
                       CHECK (review_status::text = ANY ('{open,resolved}'::text[])),
                     ADD CONSTRAINT usage_records_resolution_check CHECK (resolution::text = ANY ('{write_off,collect}'::text[])),
                     ADD CONSTRAINT usage_records_usage_source_check
                       CHECK (usage_source::text = ANY ('{provider,reported,estimated}'::text[])),
                     ADD CONSTRAINT usage_records_termination_check
                       CHECK (termination::text = ANY ('{completed,max_tokens,client_abort,upstream_error}'::text[])),
                     ADD CONSTRAINT usage_records_provider_usage_check
                       CHECK ((provider_usage IS NOT NULL) = (usage_source = 'provider'))`);
    await q.query(`DROP TRIGGER credit_allocations_check ON credit_allocations`);
    await q.query(`ALTER TABLE credit_allocations
                     ADD CONSTRAINT credit_allocations_total_check CHECK (total_credits >= 1),
                     ADD CONSTRAINT credit_allocations_remaining_check
                       CHECK (0 <= remaining_credits AND remaining_credits <= total_credits),
                     ADD CONSTRAINT credit_allocations_source_check
                       CHECK (source::text = ANY ('{manual,plan,rollover,transfer,purchase,promotion,signup,correction,volume}'::text[])),
                     ADD CONSTRAINT credit_allocations_plan_check
                       CHECK ((source::text = ANY ('{manual,transfer,purchase,promotion,signup,correction,volume}'::text[])
                               AND subscription_id IS NULL AND plan_id IS NULL AND period_start IS NULL)
                           OR (source::text = ANY ('{plan,rollover}'::text[])
                               AND subscription_id IS NOT NULL AND plan_id IS NOT NULL AND period_start IS NOT NULL)),
                     ADD CONSTRAINT credit_allocations_purchase_check CHECK ((source = 'purchase') = (purchase_id IS NOT NULL)),
                     ADD CONSTRAINT credit_allocations_value_check
                       CHECK ((value_minor IS NULL AND value_remaining_minor IS NULL AND currency IS NULL)
                           OR (value_minor >= 0 AND value_remaining_minor BETWEEN 0 AND value_minor AND currency ~ '^[a-z]{3}$'))`);
    await q.query(`DROP TRIGGER credit_ledger_check ON credit_ledger`);
    await q.query(`ALTER TABLE credit_ledger
                     ADD CONSTRAINT credit_ledger_kind_check
                       CHECK (kind::text = ANY ('{grant,debit,hold,release,expire,void,rollover,repay,overdraft,transfer_out,'
                                                'transfer_in,refund,debt,freeze,unfreeze,correction,volume_adjustment}'::text[])),
                     ADD CONSTRAINT credit_ledger_sign_check
                       CHECK (CASE WHEN kind::text = 'correction' THEN true
                              WHEN kind::text = ANY ('{grant,release,transfer_in,unfreeze,volume_adjustment}'::text[]) THEN amount >= 0
                              ELSE amount <= 0 END),
                     ADD CONSTRAINT credit_ledger_allocation_check
                       CHECK ((kind::text = ANY ('{overdraft,debt}'::text[])) = (allocation_id IS NULL)),
                     ADD CONSTRAINT credit_ledger_category_check
                       CHECK (category::text = ANY ('{purchased,sold,granted,recognized,expired,refunded,charged_back,voided,'
                                                    'transferred_in,transferred_out,corrected}'::text[])),
                     ADD CONSTRAINT credit_ledger_value_check CHECK ((value_minor IS NULL) = (currency IS NULL))`);
  }
}
