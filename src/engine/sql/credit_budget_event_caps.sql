CREATE OR REPLACE FUNCTION public.credit_budget_event_caps(p_caps integer[], p_spent bigint[], p_limits bigint[])
 RETURNS TABLE(out_codes character varying[], out_used bigint[], out_limits bigint[])
 LANGUAGE sql
 IMMUTABLE
AS $function$
  -- An event's budgets as caps of credit_decide() (docs/budgets.md): p_caps, the positions of its
  -- budgets in refusal order (NULL: none), over the take's budgets' spend so far and limits; each a
  -- cap 'budget:<position>', so a refusal names the budget. No budget: three empty lists.
  SELECT COALESCE(array_agg('budget:' || x.b ORDER BY x.k), '{}'), COALESCE(array_agg(p_spent[x.b] ORDER BY x.k), '{}'),
         COALESCE(array_agg(p_limits[x.b] ORDER BY x.k), '{}')
    FROM unnest(p_caps) WITH ORDINALITY AS x(b, k)
$function$;
