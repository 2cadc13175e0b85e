import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Batch ingestion (docs/money.md "The batch take"): `eventId` deduplication and the batch take.
 *
 * - `usage_event_ids`: one row per (owner, eventId) that produced a usage record; the primary key is
 *   what makes an id count once, also under concurrency. Owned by the usage module; rows older than
 *   35 days are deleted by a job (`usage_event_ids_created_idx`).
 * - `credits_take_batch()`: ONE user's events in array order, in one statement under that user's
 *   account lock. Per event: claim the id (a conflict → `duplicate` with the first record's id), then
 *   the very same `credits_take()` as the single route (FIFO, key budget, spend rate, overdraft,
 *   alerts), then the usage record when the take succeeded; a refused take gives its claim back.
 */
export class CreateUsageEventIds1732000011000 implements MigrationInterface {
  name = 'CreateUsageEventIds1732000011000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE usage_event_ids (
        owner           varchar(50)  NOT NULL,
        event_id        varchar(100) NOT NULL,
        usage_record_id uuid         NOT NULL,
        created_at      timestamptz  NOT NULL DEFAULT now(),
        CONSTRAINT usage_event_ids_pkey PRIMARY KEY (owner, event_id)
      )`);
    await q.query(`CREATE INDEX usage_event_ids_created_idx ON usage_event_ids (created_at)`);
    await q.query(CREDITS_TAKE_BATCH);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION credits_take_batch(varchar, varchar, uuid, integer, integer[], varchar, jsonb)`);
    await q.query(`DROP TABLE usage_event_ids`);
  }
}

/**
 * $1 user, $2 created by, $3 API key, $4 default hourly limit, $5 default alert thresholds, $6 owner
 * of the event ids, $7 events: `[{event_id?, amount, record: {usage_records columns}}]` in the order
 * they apply. One row per event (`out_ord` = its 1-based position): status ok | duplicate |
 * unknown_user | insufficient | key_limit | rate_limited, the record (created, or the duplicate's
 * original), what the take collected and added to debt, the balance after (or what was available
 * for a refusal) and the retry delay of a rate limit.
 */
const CREDITS_TAKE_BATCH = `
  CREATE FUNCTION credits_take_batch(
    p_user_id varchar, p_created_by varchar, p_api_key_id uuid, p_rate_default integer, p_thresholds integer[],
    p_owner varchar, p_events jsonb)
  RETURNS TABLE (out_ord integer, out_status varchar, out_usage_record_id uuid, out_collected bigint,
                 out_debt bigint, out_balance bigint, out_retry_after integer)
  LANGUAGE plpgsql VOLATILE AS $$
  DECLARE
    e record;
    t record;
    v_first uuid;
  BEGIN
    -- The account lock first: one user's batches (and single records) serialise, and the ids a
    -- concurrent batch of this user claimed are committed (visible) when this one claims its own.
    PERFORM 1 FROM user_accounts a WHERE a.user_id = p_user_id FOR UPDATE;
    IF NOT FOUND THEN
      RETURN QUERY SELECT x.ord::integer, 'unknown_user'::varchar, NULL::uuid, 0::bigint, 0::bigint, 0::bigint,
                          NULL::integer
        FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(ev, ord);
      RETURN;
    END IF;
    FOR e IN
      SELECT x.ord::integer AS ord, x.ev->>'event_id' AS event_id, (x.ev->>'amount')::integer AS amount,
             (x.ev->'record'->>'id')::uuid AS record_id, x.ev->'record' AS rec
        FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(ev, ord)
       ORDER BY x.ord
    LOOP
      IF e.event_id IS NOT NULL THEN
        INSERT INTO usage_event_ids (owner, event_id, usage_record_id) VALUES (p_owner, e.event_id, e.record_id)
        ON CONFLICT (owner, event_id) DO NOTHING;
        IF NOT FOUND THEN
          SELECT u.usage_record_id INTO v_first FROM usage_event_ids u WHERE u.owner = p_owner AND u.event_id = e.event_id;
          RETURN QUERY SELECT e.ord, 'duplicate'::varchar, v_first, 0::bigint, 0::bigint, 0::bigint, NULL::integer;
          CONTINUE;
        END IF;
      END IF;
      SELECT * INTO t FROM credits_take(p_user_id, e.amount, 'debit', 'strict', NULL, e.record_id, p_created_by,
                                        p_api_key_id, p_rate_default, p_thresholds);
      IF t.out_status <> 'ok' THEN
        IF e.event_id IS NOT NULL THEN
          DELETE FROM usage_event_ids u WHERE u.owner = p_owner AND u.event_id = e.event_id;
        END IF;
        RETURN QUERY SELECT e.ord, t.out_status, NULL::uuid, 0::bigint, 0::bigint, t.out_available + t.out_headroom,
                            t.out_retry_after;
        CONTINUE;
      END IF;
      -- clock time: a batch's records list (newest first by timestamp) in the order they applied
      INSERT INTO usage_records (id, user_id, "timestamp", service, operation, credits, model_id, tokens,
                                 input_tokens, output_tokens, metadata, pricing_rule_id, provider_cost,
                                 billing_status, shortfall, review_status)
      SELECT r.id, p_user_id, clock_timestamp(), r.service, r.operation, e.amount, r.model_id, r.tokens,
             r.input_tokens, r.output_tokens, r.metadata, r.pricing_rule_id, r.provider_cost,
             'billed', 0, NULL
        FROM jsonb_populate_record(NULL::usage_records, e.rec) r;
      RETURN QUERY SELECT e.ord, 'ok'::varchar, e.record_id, t.out_collected, t.out_debt, t.out_balance_after,
                          NULL::integer;
    END LOOP;
  END $$`;
