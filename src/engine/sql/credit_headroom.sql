CREATE OR REPLACE FUNCTION public.credit_headroom(p_overdraft_limit integer, p_debt bigint)
 RETURNS bigint
 LANGUAGE sql
 IMMUTABLE
AS $function$
  -- What an account may still overdraw: its overdraft limit less the debt it already owes, never
  -- below 0 (a limit lowered under the debt leaves none). The one home of the overdraft headroom:
  -- the takes, the batch and /check's spendable. LANGUAGE sql and IMMUTABLE, so a caller's plan
  -- inlines it (no call at run time).
  SELECT GREATEST(COALESCE(p_overdraft_limit, 0)::bigint - COALESCE(p_debt, 0), 0::bigint)
$function$;
