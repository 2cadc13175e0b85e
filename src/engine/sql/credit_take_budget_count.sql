CREATE OR REPLACE FUNCTION public.credit_take_budget_count(p_budgets record, p_from integer, p_to integer, p_added bigint[], p_spent bigint, p_room bigint)
 RETURNS bigint[]
 LANGUAGE plpgsql
AS $function$
  -- An event's charge counted on its budgets in a take (credits_take_events()): what it spent
  -- (p_spent) added to each of its budgets (p_budgets.out_caps[p_from .. p_to]) in p_added, answered.
  -- A budget this charge brings to its limit sends budget.reached (credit_budget_reached()); only a
  -- charge that reaches the budgets' least room (p_room) can, so the others look at none.
  DECLARE
    v_added bigint[] := p_added;
    bk integer;
  BEGIN
    IF p_spent >= p_room THEN
      FOREACH bk IN ARRAY p_budgets.out_caps[p_from:p_to] LOOP
        IF p_budgets.out_spent[bk] + v_added[bk] < p_budgets.out_limit[bk]
           AND p_budgets.out_spent[bk] + v_added[bk] + p_spent >= p_budgets.out_limit[bk] THEN
          PERFORM credit_budget_reached(p_budgets.out_id[bk], p_budgets.out_start[bk], p_budgets.out_spent[bk] + v_added[bk] + p_spent);
        END IF;
      END LOOP;
    END IF;
    FOREACH bk IN ARRAY p_budgets.out_caps[p_from:p_to] LOOP
      v_added[bk] := v_added[bk] + p_spent;
    END LOOP;
    RETURN v_added;
  END $function$;
