CREATE OR REPLACE FUNCTION public.credit_budget_reached(p_id bigint, p_period_start timestamp with time zone, p_used bigint)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
  -- budget.reached for budget p_id (credit_budgets.id), once per budget and period (the period
  -- starting at p_period_start; credit_budgets.reached_start keeps the one it was sent for): the take
  -- calls it when a charge or hold brings what the budget used and held to its limit, and the
  -- services when a write was refused for it (docs/budgets.md "Telling"). p_used: used and held then.
  DECLARE
    b credit_budgets%ROWTYPE;
  BEGIN
    UPDATE credit_budgets c SET reached_start = p_period_start
     WHERE c.id = p_id AND c.reached_start IS DISTINCT FROM p_period_start
    RETURNING * INTO b;
    IF FOUND THEN
      PERFORM credit_event('budget.reached', b.account_id, jsonb_build_object(
        'budgetId', b.budget_id, 'scope', jsonb_build_object('kind', b.scope_kind, 'id', b.scope_id),
        'limit', b.credit_limit, 'used', p_used, 'period', b.period));
    END IF;
  END $function$;
