CREATE OR REPLACE FUNCTION public.usage_rollup_compact()
 RETURNS bigint
 LANGUAGE sql
AS $function$
        WITH moved AS (
          DELETE FROM usage_rollup_pending RETURNING *
        ), users AS (
          INSERT INTO usage_daily_users AS u (day, user_id, records, credits)
          SELECT day, user_id, sum(records), sum(credits) FROM moved GROUP BY day, user_id
          ON CONFLICT (day, user_id) DO UPDATE
            SET records = u.records + EXCLUDED.records, credits = u.credits + EXCLUDED.credits
          RETURNING 1
        ), totals AS (
          INSERT INTO usage_daily_totals AS t (day, service, model_key, records, credits, provider_cost,
                                                input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens)
          SELECT day, service, model_key, sum(records), sum(credits), sum(provider_cost), sum(input_tokens),
                 sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens), sum(reasoning_tokens) FROM moved
           GROUP BY day, service, model_key
          ON CONFLICT (day, service, model_key) DO UPDATE
            SET records = t.records + EXCLUDED.records, credits = t.credits + EXCLUDED.credits,
                provider_cost = CASE WHEN t.provider_cost IS NULL AND EXCLUDED.provider_cost IS NULL THEN NULL
                                     ELSE COALESCE(t.provider_cost, 0) + COALESCE(EXCLUDED.provider_cost, 0) END,
                input_tokens = t.input_tokens + EXCLUDED.input_tokens, output_tokens = t.output_tokens + EXCLUDED.output_tokens,
                cache_read_tokens = t.cache_read_tokens + EXCLUDED.cache_read_tokens,
                cache_write_tokens = t.cache_write_tokens + EXCLUDED.cache_write_tokens,
                reasoning_tokens = t.reasoning_tokens + EXCLUDED.reasoning_tokens
          RETURNING 1
        )
        SELECT (SELECT count(*) FROM moved) + 0 * (SELECT count(*) FROM users) + 0 * (SELECT count(*) FROM totals)
      $function$;
