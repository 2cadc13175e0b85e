import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Metered usage: one row per billed event. Credits leave the balance through ledger entries that
 * carry the record's id (`credit_ledger.usage_record_id`), written in the same transaction.
 */
export class CreateUsageRecords1732000002000 implements MigrationInterface {
  name = 'CreateUsageRecords1732000002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE usage_records (
        id              uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id         varchar(50)   NOT NULL REFERENCES user_accounts (user_id),
        "timestamp"     timestamptz   NOT NULL DEFAULT now(),
        service         varchar(50)   NOT NULL,
        operation       varchar(100)  NOT NULL,
        credits         integer       NOT NULL CONSTRAINT usage_records_credits_check CHECK (credits >= 0),
        model_id        varchar(100),
        tokens          integer       CONSTRAINT usage_records_tokens_check CHECK (tokens >= 0),
        input_tokens    integer       CONSTRAINT usage_records_input_tokens_check CHECK (input_tokens >= 0),
        output_tokens   integer       CONSTRAINT usage_records_output_tokens_check CHECK (output_tokens >= 0),
        metadata        jsonb,
        pricing_rule_id uuid,
        provider_cost   numeric(20,8) CONSTRAINT usage_records_provider_cost_check CHECK (provider_cost >= 0),
        billing_status  varchar(20)   NOT NULL DEFAULT 'billed'
                        CONSTRAINT usage_records_billing_status_check CHECK (billing_status IN ('billed', 'needs_review'))
      )`);
    // A user's records newest first (list paging on (timestamp, id), per-user stats by time range).
    // INCLUDE lets the per-user stats aggregate from the index alone (index-only scan).
    await q.query(`
      CREATE INDEX usage_records_user_time_idx ON usage_records (user_id, "timestamp" DESC, id DESC)
        INCLUDE (credits, service, model_id, operation)`);
    // Everyone's records newest first (supervisor lists, system-wide stats by time range).
    await q.query(`CREATE INDEX usage_records_time_idx ON usage_records ("timestamp" DESC, id DESC)`);
    // Records that need a human look (streaming overruns the balance could not pay).
    await q.query(
      `CREATE INDEX usage_records_review_idx ON usage_records ("timestamp") WHERE billing_status = 'needs_review'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE usage_records`);
  }
}
