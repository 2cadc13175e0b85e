import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Pricing dimensions: service tiers and units (docs/pricing.md "Service tiers", "Units"). A rule
 * carries its tiers (`{"<tier>": {"pricePercent": "50.00"}}`) and its unit prices
 * (`{"<unit>": "10.0000"}`) as data; an account price may carry unit prices that replace the rule's;
 * records and sessions keep the tier and the units they were priced with.
 */
export class PricingDimensions1732000400000 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE pricing_rules ADD COLUMN service_tiers jsonb, ADD COLUMN unit_prices jsonb`);
    await q.query(`ALTER TABLE account_prices ADD COLUMN unit_prices jsonb,
      DROP CONSTRAINT account_prices_form_check,
      ADD CONSTRAINT account_prices_form_check CHECK ((discount_percent IS NULL) <> (price_per_1k_tokens IS NULL
        AND output_price_per_1k_tokens IS NULL AND cache_read_price_per_1k_tokens IS NULL
        AND cache_write_price_per_1k_tokens IS NULL AND reasoning_price_per_1k_tokens IS NULL
        AND long_context_threshold IS NULL AND unit_prices IS NULL))`);
    await q.query(`ALTER TABLE usage_records ADD COLUMN service_tier varchar(32), ADD COLUMN units jsonb`);
    // Statistics by tier and unit read only the records that carry them (the daily rollups do not).
    await q.query(`CREATE INDEX usage_records_dimensions_idx ON usage_records ("timestamp")
      WHERE service_tier IS NOT NULL OR units IS NOT NULL`);
    await q.query(
      `ALTER TABLE streaming_sessions ADD COLUMN service_tier varchar(32), ADD COLUMN estimated_units jsonb`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE streaming_sessions DROP COLUMN service_tier, DROP COLUMN estimated_units`);
    await q.query(`DROP INDEX usage_records_dimensions_idx`);
    await q.query(`ALTER TABLE usage_records DROP COLUMN service_tier, DROP COLUMN units`);
    await q.query(`DELETE FROM account_prices WHERE discount_percent IS NULL AND price_per_1k_tokens IS NULL
      AND output_price_per_1k_tokens IS NULL AND cache_read_price_per_1k_tokens IS NULL
      AND cache_write_price_per_1k_tokens IS NULL AND reasoning_price_per_1k_tokens IS NULL
      AND long_context_threshold IS NULL`);
    await q.query(`ALTER TABLE account_prices DROP CONSTRAINT account_prices_form_check, DROP COLUMN unit_prices,
      ADD CONSTRAINT account_prices_form_check CHECK ((discount_percent IS NULL) <> (price_per_1k_tokens IS NULL
        AND output_price_per_1k_tokens IS NULL AND cache_read_price_per_1k_tokens IS NULL
        AND cache_write_price_per_1k_tokens IS NULL AND reasoning_price_per_1k_tokens IS NULL
        AND long_context_threshold IS NULL))`);
    await q.query(`ALTER TABLE pricing_rules DROP COLUMN service_tiers, DROP COLUMN unit_prices`);
  }
}
