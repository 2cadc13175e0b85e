CREATE OR REPLACE FUNCTION public.usage_rollup_correction()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
  -- What corrections add to the daily rollups (docs/usage.md "Corrections"): each correction's
  -- credits that moved (its delta less the part that moved the open shortfall: a shortfall counts once
  -- collected, as a record's does) on its record's UTC day, user, service and model key, as
  -- usage_rollup_delta() places the record; no record more. Appended to usage_rollup_pending with the
  -- records' own deltas, which usage_rollup_compact() folds in.
  BEGIN
    INSERT INTO usage_rollup_pending (day, user_id, service, model_key, records, credits, provider_cost,
                                      input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens)
    SELECT (r.occurred_at AT TIME ZONE 'UTC')::date, r.user_id, r.service,
           COALESCE(r.model_id, CASE WHEN r.service IN ('chat', 'chat-streaming') THEN r.operation END, ''),
           0, c.delta - c.shortfall_delta, NULL, 0, 0, 0, 0, 0
      FROM new_rows c JOIN usage_records r ON r.id = c.record_id
     WHERE c.delta <> c.shortfall_delta;
    RETURN NULL;
  END $function$;
