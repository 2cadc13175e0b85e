CREATE OR REPLACE FUNCTION public.credit_budget_spend(p_caps integer[], p_charged bigint, p_ids bigint[], p_starts timestamp with time zone[], p_limits bigint[], p_spent bigint[], p_added bigint[])
 RETURNS TABLE(out_spent bigint[], out_added bigint[])
 LANGUAGE plpgsql
AS $function$
  -- An event's charge p_charged counted against its budgets (positions p_caps in the take's budgets,
  -- credits_take_events()): their spend so far (p_spent) and what the take adds to their counters
  -- (p_added) grow by it; a budget it brings to its limit tells budget.reached (credit_budget_reached(),
  -- once per budget and period).
  DECLARE
    b integer;
  BEGIN
    out_spent := p_spent; out_added := p_added;
    FOREACH b IN ARRAY p_caps LOOP
      IF out_spent[b] < p_limits[b] AND out_spent[b] + p_charged >= p_limits[b] THEN
        PERFORM credit_budget_reached(p_ids[b], p_starts[b], out_spent[b] + p_charged);
      END IF;
      out_spent[b] := out_spent[b] + p_charged; out_added[b] := out_added[b] + p_charged;
    END LOOP;
    RETURN NEXT;
  END $function$;
