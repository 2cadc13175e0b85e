import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Pricing by account (docs/pricing.md): account prices, the model lists of keys, organisations and
 * plans, the account price each record and session was priced with, and the NOTIFY that tells every
 * instance's pricing cache that what it holds changed.
 */
export class PricingByAccount1732000044100 implements MigrationInterface {
  name = 'PricingByAccount1732000044100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE account_prices (
        id                                      uuid          NOT NULL DEFAULT uuid_v7(),
        user_id                                 varchar(50),
        org_id                                  varchar(50),
        model_id                                varchar(100)  NOT NULL,
        discount_percent                        numeric(5,2),
        price_per_1k_tokens                     numeric(10,4),
        output_price_per_1k_tokens              numeric(10,4),
        cache_read_price_per_1k_tokens          numeric(10,4),
        cache_write_price_per_1k_tokens         numeric(10,4),
        reasoning_price_per_1k_tokens           numeric(10,4),
        long_context_threshold                  integer,
        long_context_price_per_1k_tokens        numeric(10,4),
        long_context_output_price_per_1k_tokens numeric(10,4),
        effective_from                          timestamptz   NOT NULL,
        effective_to                            timestamptz,
        notes                                   varchar(500),
        created_by                              varchar(50)   NOT NULL,
        created_at                              timestamptz   NOT NULL DEFAULT now(),
        CONSTRAINT account_prices_pkey PRIMARY KEY (id),
        CONSTRAINT account_prices_user_id_fkey FOREIGN KEY (user_id) REFERENCES user_accounts (user_id),
        CONSTRAINT account_prices_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs (org_id),
        CONSTRAINT account_prices_owner_check CHECK ((user_id IS NULL) <> (org_id IS NULL)),
        CONSTRAINT account_prices_discount_check CHECK (discount_percent >= 0 AND discount_percent <= 100),
        CONSTRAINT account_prices_form_check CHECK ((discount_percent IS NULL) <> (price_per_1k_tokens IS NULL AND output_price_per_1k_tokens IS NULL
        AND cache_read_price_per_1k_tokens IS NULL AND cache_write_price_per_1k_tokens IS NULL
        AND reasoning_price_per_1k_tokens IS NULL AND long_context_threshold IS NULL)),
        CONSTRAINT account_prices_long_context_check CHECK ((long_context_threshold IS NULL) = (long_context_price_per_1k_tokens IS NULL)
        AND (long_context_threshold IS NULL) = (long_context_output_price_per_1k_tokens IS NULL)),
        CONSTRAINT account_prices_prices_check CHECK (price_per_1k_tokens >= 0 AND output_price_per_1k_tokens >= 0 AND cache_read_price_per_1k_tokens >= 0
        AND cache_write_price_per_1k_tokens >= 0 AND reasoning_price_per_1k_tokens >= 0 AND long_context_threshold >= 0
        AND long_context_price_per_1k_tokens >= 0 AND long_context_output_price_per_1k_tokens >= 0),
        CONSTRAINT account_prices_period_check CHECK (effective_to IS NULL OR effective_to > effective_from),
        CONSTRAINT account_prices_no_overlap EXCLUDE USING gist (COALESCE(user_id, '') WITH =, COALESCE(org_id, '') WITH =, model_id WITH =, tstzrange(effective_from, effective_to, '[)') WITH &&)
      )`);
    await q.query(`CREATE INDEX account_prices_user_idx ON account_prices (user_id)`);
    await q.query(`CREATE INDEX account_prices_org_idx ON account_prices (org_id)`);
    await q.query(`ALTER TABLE api_keys ADD models text[]`);
    await q.query(`ALTER TABLE orgs ADD models text[]`);
    await q.query(`ALTER TABLE plans ADD models text[]`);
    await q.query(`ALTER TABLE streaming_sessions ADD account_price_id uuid`);
    await q.query(`ALTER TABLE usage_records ADD account_price_id uuid`);
    for (const table of ['pricing_rules', 'account_prices', 'orgs', 'plans', 'subscriptions']) {
      await q.query(`CREATE TRIGGER ${table}_pricing_changed AFTER INSERT OR UPDATE OR DELETE ON ${table}
                       FOR EACH STATEMENT EXECUTE FUNCTION pricing_changed_notify()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['pricing_rules', 'account_prices', 'orgs', 'plans', 'subscriptions']) {
      await q.query(`DROP TRIGGER ${table}_pricing_changed ON ${table}`);
    }
    await q.query(`ALTER TABLE usage_records DROP COLUMN account_price_id`);
    await q.query(`ALTER TABLE streaming_sessions DROP COLUMN account_price_id`);
    await q.query(`ALTER TABLE plans DROP COLUMN models`);
    await q.query(`ALTER TABLE orgs DROP COLUMN models`);
    await q.query(`ALTER TABLE api_keys DROP COLUMN models`);
    await q.query(`DROP TABLE account_prices`);
  }
}
