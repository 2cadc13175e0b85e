CREATE OR REPLACE FUNCTION public.credit_key_spent(p_api_key_id uuid, p_period character varying)
 RETURNS bigint
 LANGUAGE plpgsql
 STABLE
AS $function$
  -- What a key with a budget over p_period spent in the current period: its credit_key_spend row
  -- counts only while it is of this period (a row of an earlier one is 0 spent).
  BEGIN
    RETURN COALESCE((SELECT s.spent FROM credit_key_spend s
                      WHERE s.api_key_id = p_api_key_id AND s.period_start = credit_key_period_start(p_period, now())), 0);
  END $function$;
