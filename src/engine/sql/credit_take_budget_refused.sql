CREATE OR REPLACE FUNCTION public.credit_take_budget_refused(p_budgets record, p_from integer, p_to integer, p_added bigint[], p_ask bigint)
 RETURNS jsonb
 LANGUAGE plpgsql
 STABLE
AS $function$
  -- The budget that refuses an event of a take (credits_take_events()), as BUDGET_EXCEEDED tells it
  -- (credit_budget_refusal()): the first of its budgets (p_budgets.out_caps[p_from .. p_to], in
  -- refusal order) that cannot cover its ask p_ask after what the take added to it (p_added[k]).
  DECLARE
    bk integer;
  BEGIN
    FOREACH bk IN ARRAY p_budgets.out_caps[p_from:p_to] LOOP
      EXIT WHEN p_budgets.out_spent[bk] + p_added[bk] + p_ask > p_budgets.out_limit[bk];
    END LOOP;
    RETURN credit_budget_refusal(p_budgets.out_id[bk], p_budgets.out_name[bk], p_budgets.out_limit[bk],
                                 p_budgets.out_spent[bk] + p_added[bk], p_budgets.out_start[bk], p_budgets.out_account[bk]);
  END $function$;
