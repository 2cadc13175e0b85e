import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A rule's own output bound (docs/gateway.md "Admission"): the most output tokens the gateway holds for
 * a request of the model that names no limit of its own. Null: GATEWAY_MAX_OUTPUT_TOKENS.
 */
export class PricingRuleMaxOutputTokens1732001500000 implements MigrationInterface {
  name = 'PricingRuleMaxOutputTokens1732001500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE pricing_rules ADD COLUMN max_output_tokens integer
      CONSTRAINT pricing_rules_max_output_tokens_check CHECK (max_output_tokens > 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE pricing_rules DROP COLUMN max_output_tokens`);
  }
}
