CREATE OR REPLACE FUNCTION public.org_member_spent(p_org_id character varying, p_user_id character varying, p_period character varying, p_at timestamp with time zone)
 RETURNS bigint
 LANGUAGE sql
 STABLE
AS $function$
  -- What a member spent from their organisation in the UTC calendar period of their limit that
  -- contains p_at (day; ISO week, from Monday; month): the sum of org_member_spend's days of that
  -- period up to p_at's day, held credits of open sessions included. A period of NULL (no limit)
  -- counts p_at's day.
  SELECT COALESCE(sum(s.spent), 0)::bigint
    FROM org_member_spend s
   WHERE s.org_id = p_org_id AND s.user_id = p_user_id
     AND s.day >= date_trunc(CASE p_period WHEN 'week' THEN 'week' WHEN 'month' THEN 'month' ELSE 'day' END,
                             p_at AT TIME ZONE 'UTC')::date
     AND s.day <= (p_at AT TIME ZONE 'UTC')::date
$function$;
