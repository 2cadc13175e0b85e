CREATE OR REPLACE FUNCTION public.credit_budget_caps(p_account_ids bigint[], p_scopes jsonb[])
 RETURNS TABLE(out_from integer[], out_to integer[], out_caps integer[], out_id bigint[], out_name character varying[], out_limit bigint[], out_start timestamp with time zone[], out_spent bigint[], out_added bigint[], out_account bigint[])
 LANGUAGE plpgsql
 STABLE
AS $function$
  -- The budgets a take's events name (docs/budgets.md), for credits_take_events() under the accounts'
  -- locks: event i of account p_account_ids[i] (NULL: none) names scopes p_scopes[i] (NULL: none).
  -- One row: every budget once (out_id, its budgetId, limit, period start, what it used and held in
  -- the period, 0 added so far, its account), and per event the positions of its budgets in refusal order,
  -- out_caps[out_from[i] .. out_to[i]] (out_from[i] NULL: none), each from credit_budget_chain(),
  -- called by scalars, event by event (a statement over unnest() is planned anew at every call).
  DECLARE
    c record;
    k integer := 0;
    bk integer;
  BEGIN
    out_from := array_fill(NULL::integer, ARRAY[cardinality(p_scopes)]); out_to := out_from; out_caps := '{}';
    out_id := '{}'; out_name := '{}'; out_limit := '{}'; out_start := '{}'; out_spent := '{}'; out_account := '{}';
    FOR ev IN 1 .. cardinality(p_scopes) LOOP
      CONTINUE WHEN p_scopes[ev] IS NULL OR p_account_ids[ev] IS NULL;
      FOR c IN SELECT * FROM credit_budget_chain(p_account_ids[ev], p_scopes[ev], now()) LOOP
        k := k + 1;
        bk := array_position(out_id, c.id);
        IF bk IS NULL THEN
          out_id := out_id || c.id; out_name := out_name || c.budget_id; out_limit := out_limit || c.credit_limit;
          out_start := out_start || c.period_start; out_spent := out_spent || c.spent;
          out_account := out_account || p_account_ids[ev];
          bk := cardinality(out_id);
        END IF;
        out_caps := out_caps || bk;
        out_from[ev] := COALESCE(out_from[ev], k); out_to[ev] := k;
      END LOOP;
    END LOOP;
    out_added := array_fill(0::bigint, ARRAY[cardinality(out_id)]);
    RETURN NEXT;
  END $function$;
