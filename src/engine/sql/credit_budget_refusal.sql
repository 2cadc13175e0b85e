CREATE OR REPLACE FUNCTION public.credit_budget_refusal(p_id bigint, p_budget_id character varying, p_limit bigint, p_spent bigint,
    p_start timestamp with time zone, p_account_id bigint)
 RETURNS jsonb
 LANGUAGE plpgsql
AS $function$
  -- What a refusal by budget p_id tells (BUDGET_EXCEEDED, docs/budgets.md): its limit, and of what it
  -- used and held in the period starting at p_start (p_spent), the part open sessions hold (their
  -- holds name it and the period they counted in). A refusal also tells budget.reached, once per
  -- budget and period (credit_budget_reached()). Called only when a budget refuses.
  DECLARE
    v_held bigint;
  BEGIN
    SELECT LEAST(COALESCE(sum(c.outstanding), 0), p_spent)::bigint INTO v_held
      FROM credit_holds c CROSS JOIN LATERAL unnest(c.budget_ids, c.budget_starts) AS x(id, start)
     WHERE c.account_id = p_account_id AND c.settled_at IS NULL AND x.id = p_id AND x.start = p_start;
    PERFORM credit_budget_reached(p_id, p_start, p_spent);
    RETURN jsonb_build_object('budgetId', p_budget_id, 'limit', p_limit, 'used', p_spent - v_held, 'held', v_held);
  END $function$;
