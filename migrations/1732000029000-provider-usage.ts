import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Provider usage (CONTRACT "Provider usage: bill what the provider reported"): every usage record
 * keeps where its token counts came from (`usage_source`), how a streamed answer ended
 * (`termination`) and the provider's usage object as sent (`provider_usage`, only with source
 * `provider`).
 *
 * Existing rows: the column's default (`reported`, a constant, so no table rewrite) is what nearly
 * every record was; the records of expired sessions were charged their estimate and become
 * `estimated`, as do aborts recorded without any count (0 tokens, no split: the old default of an
 * abort that named none, indistinguishable from an explicit 0, which is rare). Their termination was
 * never reported: NULL. The UPDATE's rollup deltas cancel out (no figure changes).
 */
export class ProviderUsage1732000029000 implements MigrationInterface {
  name = 'ProviderUsage1732000029000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_records
      ADD COLUMN usage_source varchar(10) NOT NULL DEFAULT 'reported',
      ADD COLUMN termination varchar(20),
      ADD COLUMN provider_usage jsonb,
      ADD CONSTRAINT usage_records_usage_source_check CHECK (usage_source IN ('provider', 'reported', 'estimated')),
      ADD CONSTRAINT usage_records_termination_check
        CHECK (termination IN ('completed', 'max_tokens', 'client_abort', 'upstream_error')),
      ADD CONSTRAINT usage_records_provider_usage_check
        CHECK ((provider_usage IS NOT NULL) = (usage_source = 'provider'))`);
    await q.query(`
      UPDATE usage_records SET usage_source = 'estimated'
       WHERE service = 'chat-streaming-expired'
          OR (service = 'chat-streaming-aborted' AND tokens = 0 AND input_tokens IS NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_records
      DROP CONSTRAINT usage_records_provider_usage_check,
      DROP CONSTRAINT usage_records_termination_check,
      DROP CONSTRAINT usage_records_usage_source_check,
      DROP COLUMN provider_usage,
      DROP COLUMN termination,
      DROP COLUMN usage_source`);
  }
}
