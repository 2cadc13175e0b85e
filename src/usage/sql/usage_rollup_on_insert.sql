CREATE OR REPLACE FUNCTION public.usage_rollup_on_insert()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      BEGIN 
  INSERT INTO usage_rollup_pending (day, user_id, service, model_key, records, credits, provider_cost,
                                    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens)
  SELECT ("timestamp" AT TIME ZONE 'UTC')::date, user_id, service, COALESCE(model_id, CASE WHEN service IN ('chat', 'chat-streaming') THEN operation END, ''),
         count(*), sum(credits), sum(provider_cost),
         COALESCE(sum(COALESCE(input_tokens, tokens)), 0), COALESCE(sum(output_tokens), 0),
         COALESCE(sum(cache_read_tokens), 0), COALESCE(sum(cache_write_tokens), 0), COALESCE(sum(reasoning_tokens), 0)
    FROM new_rows
   GROUP BY 1, 2, 3, 4; RETURN NULL; END $function$;
