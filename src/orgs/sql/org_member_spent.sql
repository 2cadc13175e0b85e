CREATE OR REPLACE FUNCTION public.org_member_spent(p_org_id character varying, p_user_id character varying, p_period character varying, p_at timestamp with time zone)
 RETURNS bigint
 LANGUAGE sql
 STABLE
AS $function$
  -- What a member spent from the org in the UTC calendar period of their limit (day; ISO week from
  -- Monday; month) that contains p_at (callers pass now()): the sum of their org_member_spend days of
  -- that period, held credits of open sessions included. The one home of that sum: the member view
  -- and the member-limit check of every org charge call it. The period bounds are the key budgets'
  -- (credit_key_period_start/end), so every UTC calendar period of the service starts alike.
  SELECT COALESCE(sum(s.spent), 0)::bigint
    FROM org_member_spend s
   WHERE s.org_id = p_org_id AND s.user_id = p_user_id
     AND s.day >= (credit_key_period_start(p_period, p_at) AT TIME ZONE 'UTC')::date
     AND s.day < (credit_key_period_end(p_period, p_at) AT TIME ZONE 'UTC')::date
$function$;
