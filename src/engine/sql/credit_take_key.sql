CREATE OR REPLACE FUNCTION public.credit_take_key(p_api_key_id uuid, OUT out_limit integer, OUT out_period character varying,
    OUT out_start timestamp with time zone, OUT out_spent bigint)
 RETURNS record
 LANGUAGE plpgsql
AS $function$
  -- The calling key's budget for a take (credits_take_events()): its cap row locked after the
  -- accounts, so takes through one key (an ingest key records for many accounts) decide against each
  -- other's spend, one at a time; its limit (null: none, or no key), its period, the period's start
  -- and what the key spent in it (0 without a limit).
  BEGIN
    out_spent := 0;
    IF p_api_key_id IS NULL THEN RETURN; END IF;
    SELECT c.credit_limit, c.period INTO out_limit, out_period
      FROM credit_caps c
     WHERE c.subject_kind = 'key' AND c.subject_id = p_api_key_id::varchar AND c.account_id = 0
       AND c.credit_limit IS NOT NULL FOR NO KEY UPDATE;
    IF out_limit IS NOT NULL THEN
      out_start := credit_key_period_start(out_period, now());
      SELECT sp.spent INTO out_spent FROM credit_cap_spent('key', p_api_key_id::varchar, NULL, out_period, now()) sp;
    END IF;
  END $function$;
