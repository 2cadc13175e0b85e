import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Every price column of pricing_rules and account_prices: 10 places from here on (catalogue prices scaled exactly). */
const RULE_PRICES = [
  'price_per_1k_tokens',
  'output_price_per_1k_tokens',
  'cache_read_price_per_1k_tokens',
  'cache_write_price_per_1k_tokens',
  'reasoning_price_per_1k_tokens',
  'long_context_price_per_1k_tokens',
  'long_context_output_price_per_1k_tokens',
  'provider_cost_per_1k_tokens',
  'provider_output_cost_per_1k_tokens',
  'provider_cache_read_cost_per_1k_tokens',
  'provider_cache_write_cost_per_1k_tokens',
  'provider_reasoning_cost_per_1k_tokens',
];
const ACCOUNT_PRICES = RULE_PRICES.slice(0, 7);

const alter = (table: string, columns: string[], type: string) =>
  `ALTER TABLE ${table} ${columns.map((c) => `ALTER COLUMN ${c} TYPE ${type}`).join(', ')}`;

/**
 * The price catalogue (docs/pricing.md "The price catalogue"): each catalogue version the service
 * started with, at the conversion it started with (a set), from the start that brought it; each set's
 * models with their credit prices per 1k tokens and the catalogue's own start dates. `pricing_prices`
 * is a rule's or a catalogue price's prices by id: what a session priced by either settles at.
 */
export class PriceCatalogue1732005800000 implements MigrationInterface {
  name = 'PriceCatalogue1732005800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(alter('pricing_rules', RULE_PRICES, 'numeric(16,10)'));
    await q.query(alter('account_prices', ACCOUNT_PRICES, 'numeric(16,10)'));
    await q.query(`
      CREATE TABLE price_catalog_sets (
        id               uuid NOT NULL DEFAULT gen_random_uuid(),
        version          varchar(50) NOT NULL,
        credits_per_usd  integer NOT NULL,
        markup_percent   numeric(7,2) NOT NULL,
        effective_from   timestamptz NOT NULL,
        created_at       timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT price_catalog_sets_pkey PRIMARY KEY (id),
        CONSTRAINT price_catalog_sets_effective_from_key UNIQUE (effective_from),
        CONSTRAINT price_catalog_sets_credits_check CHECK (credits_per_usd > 0),
        CONSTRAINT price_catalog_sets_markup_check CHECK (markup_percent >= 0)
      )`);
    await q.query(`
      CREATE TABLE price_catalog_prices (
        id                                      uuid NOT NULL DEFAULT gen_random_uuid(),
        set_id                                  uuid NOT NULL,
        provider                                varchar(50) NOT NULL,
        catalog_model                           varchar(200) NOT NULL,
        name                                    varchar(200),
        position                                integer NOT NULL,
        match                                   jsonb NOT NULL,
        context_window                          integer,
        valid_from                              timestamptz NOT NULL,
        valid_to                                timestamptz,
        price_per_1k_tokens                     numeric(16,10) NOT NULL,
        output_price_per_1k_tokens              numeric(16,10) NOT NULL,
        cache_read_price_per_1k_tokens          numeric(16,10),
        cache_write_price_per_1k_tokens         numeric(16,10),
        long_context_threshold                  integer,
        long_context_price_per_1k_tokens        numeric(16,10),
        long_context_output_price_per_1k_tokens numeric(16,10),
        CONSTRAINT price_catalog_prices_pkey PRIMARY KEY (id),
        CONSTRAINT price_catalog_prices_period_check CHECK (valid_to IS NULL OR valid_to > valid_from),
        CONSTRAINT price_catalog_prices_long_context_check CHECK ((long_context_threshold IS NULL) = (long_context_price_per_1k_tokens IS NULL)
          AND (long_context_threshold IS NULL) = (long_context_output_price_per_1k_tokens IS NULL))
      )`);
    await q.query(`CREATE INDEX price_catalog_prices_set_idx ON price_catalog_prices (set_id, provider, position)`);
    for (const table of ['price_catalog_sets', 'price_catalog_prices']) {
      await q.query(`CREATE TRIGGER ${table}_pricing_changed AFTER INSERT OR DELETE OR UPDATE ON ${table}
                     FOR EACH STATEMENT EXECUTE FUNCTION pricing_changed_notify()`);
    }
    await q.query(`
      CREATE VIEW pricing_prices AS
      SELECT id, price_per_1k_tokens, output_price_per_1k_tokens, cache_read_price_per_1k_tokens,
             cache_write_price_per_1k_tokens, reasoning_price_per_1k_tokens, long_context_threshold,
             long_context_price_per_1k_tokens, long_context_output_price_per_1k_tokens,
             provider_cost_per_1k_tokens, provider_output_cost_per_1k_tokens, provider_cache_read_cost_per_1k_tokens,
             provider_cache_write_cost_per_1k_tokens, provider_reasoning_cost_per_1k_tokens,
             service_tiers, unit_prices, volume
        FROM pricing_rules
      UNION ALL
      SELECT id, price_per_1k_tokens, output_price_per_1k_tokens, cache_read_price_per_1k_tokens,
             cache_write_price_per_1k_tokens, NULL::numeric(16,10), long_context_threshold,
             long_context_price_per_1k_tokens, long_context_output_price_per_1k_tokens,
             NULL::numeric(16,10), NULL::numeric(16,10), NULL::numeric(16,10), NULL::numeric(16,10), NULL::numeric(16,10),
             NULL::jsonb, NULL::jsonb, NULL::jsonb
        FROM price_catalog_prices`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW pricing_prices`);
    await q.query(`DROP TABLE price_catalog_prices`);
    await q.query(`DROP TABLE price_catalog_sets`);
    await q.query(alter('account_prices', ACCOUNT_PRICES, 'numeric(10,4)'));
    await q.query(alter('pricing_rules', RULE_PRICES, 'numeric(10,4)'));
  }
}
