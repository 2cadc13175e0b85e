CREATE OR REPLACE FUNCTION public.credit_take_budget_room(p_budgets record, p_from integer, p_to integer, p_added bigint[])
 RETURNS bigint
 LANGUAGE plpgsql
 IMMUTABLE
AS $function$
  -- An event's budgets in a take (credits_take_events()), as one cap: their least room, each budget's
  -- limit less what it used and held in its period and what the take added to it before (p_added[k]);
  -- the event's budgets are p_budgets.out_caps[p_from .. p_to] (credit_budget_caps()'s row; p_from
  -- null: none). Null: no budget, no limit.
  DECLARE
    v_room bigint;
    bk integer;
  BEGIN
    FOREACH bk IN ARRAY COALESCE(p_budgets.out_caps[p_from:p_to], '{}') LOOP
      v_room := LEAST(v_room, p_budgets.out_limit[bk] - p_budgets.out_spent[bk] - p_added[bk]);
    END LOOP;
    RETURN v_room;
  END $function$;
