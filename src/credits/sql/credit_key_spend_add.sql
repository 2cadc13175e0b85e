CREATE OR REPLACE FUNCTION public.credit_key_spend_add(p_account_id bigint, p_api_key_id uuid, p_limit integer, p_period character varying, p_period_start timestamp with time zone, p_spent_before bigint, p_charged bigint)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
  -- A budgeted key's spend counted: p_charged added to its period's counter (credit_key_spend: a row
  -- of an earlier period starts again from p_charged), and api_key.limit_reached emitted by the
  -- charge that takes the spend from below the limit to it or past it. p_spent_before is the spend
  -- the decision read. Every take that charges through a budgeted key calls it: the single take per
  -- take, the batch once per key with the events' total after their events (credit_key_limit_event()).
  BEGIN
    INSERT INTO credit_key_spend AS s (api_key_id, period_start, spent) VALUES (p_api_key_id, p_period_start, p_charged)
    ON CONFLICT (api_key_id) DO UPDATE
      SET spent = CASE WHEN s.period_start = EXCLUDED.period_start THEN s.spent + EXCLUDED.spent ELSE EXCLUDED.spent END,
          period_start = EXCLUDED.period_start;
    IF p_account_id IS NOT NULL THEN
      PERFORM credit_key_limit_event(p_account_id, p_api_key_id, p_limit, p_period, p_spent_before, p_charged);
    END IF;
  END $function$;
