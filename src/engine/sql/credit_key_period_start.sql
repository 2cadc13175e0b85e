CREATE OR REPLACE FUNCTION public.credit_key_period_start(p_period character varying, p_at timestamp with time zone)
 RETURNS timestamp with time zone
 LANGUAGE sql
 STABLE
AS $function$
  -- When the key budget's period containing p_at (callers pass now()) began: the UTC calendar day,
  -- week (Monday) or month; -infinity for `total` (it never resets). A key's credit_cap_spend bucket starts at it.
  SELECT CASE p_period
           WHEN 'day' THEN date_trunc('day', p_at, 'UTC')
           WHEN 'week' THEN date_trunc('week', p_at, 'UTC')
           WHEN 'month' THEN date_trunc('month', p_at, 'UTC')
           ELSE '-infinity'::timestamptz
         END
$function$;
