import type { MigrationInterface, QueryRunner } from 'typeorm';

const PRICES = [
  'cache_read_price_per_1k_tokens',
  'cache_write_price_per_1k_tokens',
  'reasoning_price_per_1k_tokens',
  'long_context_price_per_1k_tokens',
  'long_context_output_price_per_1k_tokens',
  'provider_output_cost_per_1k_tokens',
  'provider_cache_read_cost_per_1k_tokens',
  'provider_cache_write_cost_per_1k_tokens',
  'provider_reasoning_cost_per_1k_tokens',
];
const RECORD_KINDS = ['cache_read_tokens', 'cache_write_tokens', 'reasoning_tokens'];
const ROLLUP_KINDS = ['input_tokens', 'output_tokens', ...RECORD_KINDS];

/** The byModel key of a record, as the rollup triggers compute it. */
const MODEL_KEY = `COALESCE(model_id, CASE WHEN service IN ('chat', 'chat-streaming') THEN operation END, '')`;

/**
 * Token kinds (CONTRACT "Token kinds"): pricing rules gain the prices of cache reads, cache writes
 * and reasoning, a long-context tier and a provider cost per kind; usage records the counts of the
 * new kinds; the daily rollups the token count of every kind (tokensByKind).
 *
 * Every existing figure stays: the new prices are NULL, which means the defaults the contract gives
 * (cache → pricePer1kTokens, reasoning → the output price), so old rules price as they did; the
 * provider cost of output and the new kinds defaults to provider_cost_per_1k_tokens (now the input's),
 * so a margin is what it was; old records have the new kinds NULL (absent). The rollups' token
 * counts are filled from the records: pending deltas are folded first (usage_records is locked by
 * its ALTER, so none arrive meanwhile), then every (day, service, model) row gets its records' sums;
 * a record without a split counts its `tokens` as input (they were priced at the input price).
 */
export class TokenKinds1732000021000 implements MigrationInterface {
  name = 'TokenKinds1732000021000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE usage_records
      ${RECORD_KINDS.map((c) => `ADD COLUMN ${c} integer, ADD CONSTRAINT usage_records_${c}_check CHECK (${c} >= 0)`).join(',\n      ')}`);
    await q.query(`ALTER TABLE pricing_rules
      ${PRICES.map((c) => `ADD COLUMN ${c} numeric(10,4), ADD CONSTRAINT pricing_rules_${c}_check CHECK (${c} >= 0)`).join(',\n      ')},
      ADD COLUMN long_context_threshold integer,
      ADD CONSTRAINT pricing_rules_long_context_threshold_check CHECK (long_context_threshold >= 0),
      ADD CONSTRAINT pricing_rules_long_context_check CHECK (
        (long_context_threshold IS NULL) = (long_context_price_per_1k_tokens IS NULL)
        AND (long_context_threshold IS NULL) = (long_context_output_price_per_1k_tokens IS NULL)),
      ADD CONSTRAINT pricing_rules_provider_kinds_check CHECK (provider_cost_per_1k_tokens IS NOT NULL OR (
        provider_output_cost_per_1k_tokens IS NULL AND provider_cache_read_cost_per_1k_tokens IS NULL
        AND provider_cache_write_cost_per_1k_tokens IS NULL AND provider_reasoning_cost_per_1k_tokens IS NULL))`);
    for (const table of ['usage_rollup_pending', 'usage_daily_totals']) {
      await q.query(
        `ALTER TABLE ${table} ${ROLLUP_KINDS.map((c) => `ADD COLUMN ${c} bigint NOT NULL DEFAULT '0'`).join(', ')}`,
      );
    }
    await q.query(`SELECT usage_rollup_compact()`);
    await q.query(`
      UPDATE usage_daily_totals t
         SET input_tokens = a.input_tokens, output_tokens = a.output_tokens
        FROM (SELECT ("timestamp" AT TIME ZONE 'UTC')::date AS day, service, ${MODEL_KEY} AS model_key,
                     COALESCE(sum(COALESCE(input_tokens, tokens)), 0) AS input_tokens,
                     COALESCE(sum(output_tokens), 0) AS output_tokens
                FROM usage_records GROUP BY 1, 2, 3) a
       WHERE t.day = a.day AND t.service = a.service AND t.model_key = a.model_key`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['usage_daily_totals', 'usage_rollup_pending']) {
      await q.query(`ALTER TABLE ${table} ${ROLLUP_KINDS.map((c) => `DROP COLUMN ${c}`).join(', ')}`);
    }
    await q.query(
      `ALTER TABLE pricing_rules ${[...PRICES, 'long_context_threshold'].map((c) => `DROP COLUMN ${c}`).join(', ')}`,
    );
    await q.query(`ALTER TABLE usage_records ${RECORD_KINDS.map((c) => `DROP COLUMN ${c}`).join(', ')}`);
  }
}
