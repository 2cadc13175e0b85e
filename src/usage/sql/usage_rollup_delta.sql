CREATE OR REPLACE FUNCTION public.usage_rollup_delta()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
  -- The one rule of the usage rollups: what a change of usage_records adds to (or takes from) the daily
  -- rollups, appended to usage_rollup_pending as signed deltas that usage_rollup_compact() folds in.
  -- Every statement trigger that changes records runs it with the rows it changed as `changed_rows`
  -- and their sign as its argument: inserted rows +1, deleted rows -1, an update's old rows -1 and
  -- its new rows +1 (two triggers). A record counts on the UTC day it occurred (occurred_at: late usage
  -- counts on its own day, not the day it was written), under its model, else (chat records) its
  -- operation, else ''; a single token count is input tokens. One delta per row, not grouped here: the
  -- compaction groups them, and a single record's statement (the metered debit) would pay for a hash
  -- aggregate of one row.
  DECLARE
    v_sign integer := TG_ARGV[0]::integer;
  BEGIN
    INSERT INTO usage_rollup_pending (day, user_id, service, model_key, records, credits, provider_cost,
                                      input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens)
    SELECT (occurred_at AT TIME ZONE 'UTC')::date, user_id, service,
           COALESCE(model_id, CASE WHEN service IN ('chat', 'chat-streaming') THEN operation END, ''),
           v_sign, v_sign * credits, v_sign * provider_cost,
           v_sign * COALESCE(input_tokens, tokens, 0), v_sign * COALESCE(output_tokens, 0),
           v_sign * COALESCE(cache_read_tokens, 0), v_sign * COALESCE(cache_write_tokens, 0),
           v_sign * COALESCE(reasoning_tokens, 0)
      FROM changed_rows;
    RETURN NULL;
  END $function$;
