import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A rule's context window (docs/gateway.md "What can change the cost"): the most input tokens one
 * request of the model can bring, which the gateway holds for a request whose input the body does not
 * contain (a stored conversation, a file or image URL). Null: none known.
 */
export class PricingRuleContextWindow1732005500000 implements MigrationInterface {
  name = 'PricingRuleContextWindow1732005500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE pricing_rules ADD COLUMN context_window integer
      CONSTRAINT pricing_rules_context_window_check CHECK (context_window > 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE pricing_rules DROP COLUMN context_window`);
  }
}
