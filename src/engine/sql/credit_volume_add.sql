CREATE OR REPLACE FUNCTION public.credit_volume_add(p_account_id bigint, p_model_id character varying, p_period_start timestamp with time zone, p_period_end timestamp with time zone, p_tokens bigint, p_base numeric, p_cost numeric)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
  -- Keeps a period's total after a record the take let through (credit_volume_price() decided it):
  -- its tokens, their un-stepped exact cost and the exact stepped cost charged so far. PL/pgSQL, so
  -- its statement is planned once a connection, not at every call as a SQL function's is.
  BEGIN
    INSERT INTO credit_volume_totals AS v (account_id, model_id, period_start, period_end, tokens, base, cost)
    VALUES (p_account_id, p_model_id, p_period_start, p_period_end, p_tokens, p_base, p_cost)
    ON CONFLICT (account_id, model_id, period_start)
    DO UPDATE SET tokens = EXCLUDED.tokens, base = EXCLUDED.base, cost = EXCLUDED.cost, updated_at = now();
  END $function$;
