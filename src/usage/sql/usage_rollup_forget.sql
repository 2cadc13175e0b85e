CREATE OR REPLACE FUNCTION public.usage_rollup_forget(p_record_ids uuid[], p_old_operations character varying[])
 RETURNS integer
 LANGUAGE plpgsql
AS $function$
      -- An erasure's pass over the daily totals (docs/erasure.md). A chat record without a model is
      -- rolled up under its operation, so rewriting the person's operations moves their counts from the
      -- old key to the new one: the records' own by the update's deltas (usage_rollup_delta()), their
      -- corrections' credits here (as usage_rollup_correction() placed them). Folded in now
      -- (usage_rollup_compact()), a total left counting nothing under one of the old keys (its day,
      -- service and key: the primary key) is removed, since that key is the person's words. A key that
      -- other records still count under keeps its row.
      DECLARE
        v_count integer;
      BEGIN
        WITH renamed AS (
          SELECT r.id, (r.occurred_at AT TIME ZONE 'UTC')::date AS day, r.user_id, r.service,
                 k.old_operation, r.operation
            FROM unnest(p_record_ids, p_old_operations) AS k(id, old_operation)
            JOIN usage_records r ON r.id = k.id
           WHERE r.model_id IS NULL AND r.service IN ('chat', 'chat-streaming')
        ), moved AS (
          SELECT n.day, n.user_id, n.service, n.old_operation, n.operation, sum(c.delta - c.shortfall_delta) AS credits
            FROM renamed n JOIN usage_corrections c ON c.record_id = n.id
           GROUP BY n.day, n.user_id, n.service, n.old_operation, n.operation
        )
        -- The token counts default to 0: a correction moves credits only.
        INSERT INTO usage_rollup_pending (day, user_id, service, model_key, records, credits, provider_cost)
        SELECT m.day, m.user_id, m.service, s.key, 0, s.sign * m.credits, NULL
          FROM moved m, LATERAL (VALUES (m.old_operation, -1), (m.operation, 1)) AS s(key, sign)
         WHERE m.credits <> 0;
        PERFORM usage_rollup_compact();
        DELETE FROM usage_daily_totals t
         USING (SELECT DISTINCT (r.occurred_at AT TIME ZONE 'UTC')::date AS day, r.service, k.old_operation
                  FROM unnest(p_record_ids, p_old_operations) AS k(id, old_operation)
                  JOIN usage_records r ON r.id = k.id) AS k
         WHERE t.day = k.day AND t.service = k.service AND t.model_key = k.old_operation
           -- No record left under the key: its tokens and provider cost, which only records bring, are
           -- back to nothing with them; credits, which corrections bring too, must be as well.
           AND t.records = 0 AND t.credits = 0 AND COALESCE(t.provider_cost, 0) = 0;
        GET DIAGNOSTICS v_count = ROW_COUNT;
        RETURN v_count;
      END $function$;
