import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Effective-dated prices per model; the database refuses rules of one model that overlap in time. */
export class CreatePricingRules1732000001100 implements MigrationInterface {
  name = 'CreatePricingRules1732000001100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS btree_gist`);
    await q.query(`
      CREATE TABLE pricing_rules (
        id                          uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
        model_id                    varchar(100)  NOT NULL,
        price_per_1k_tokens         numeric(10,4) NOT NULL CONSTRAINT pricing_rules_price_check CHECK (price_per_1k_tokens >= 0),
        output_price_per_1k_tokens  numeric(10,4) CONSTRAINT pricing_rules_output_price_check CHECK (output_price_per_1k_tokens >= 0),
        provider_cost_per_1k_tokens numeric(10,4) CONSTRAINT pricing_rules_provider_cost_check CHECK (provider_cost_per_1k_tokens >= 0),
        effective_from              timestamptz   NOT NULL DEFAULT now(),
        effective_to                timestamptz,
        created_by                  varchar(50)   NOT NULL,
        created_at                  timestamptz   NOT NULL DEFAULT now(),
        CONSTRAINT pricing_rules_period_check CHECK (effective_to IS NULL OR effective_to > effective_from),
        CONSTRAINT pricing_rules_no_overlap
          EXCLUDE USING gist (model_id WITH =, tstzrange(effective_from, effective_to, '[)') WITH &&)
      )`);
    await q.query(`CREATE INDEX pricing_rules_model_idx ON pricing_rules (model_id, effective_from DESC)`);
    await q.query(`
      INSERT INTO pricing_rules (model_id, price_per_1k_tokens, effective_from, created_by) VALUES
        ('anthropic.claude-3-sonnet-20240229-v1:0', 3,    '2024-01-01T00:00:00Z', 'system'),
        ('anthropic.claude-3-haiku-20240307-v1:0',  0.25, '2024-01-01T00:00:00Z', 'system'),
        ('anthropic.claude-instant-v1',             0.8,  '2024-01-01T00:00:00Z', 'system'),
        ('amazon.titan-text-express-v1',            0.3,  '2024-01-01T00:00:00Z', 'system')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE pricing_rules`);
  }
}
