CREATE OR REPLACE FUNCTION public.credit_key_period_end(p_period character varying, p_at timestamp with time zone)
 RETURNS timestamp with time zone
 LANGUAGE sql
 STABLE
AS $function$
  -- When the key budget's period containing p_at ends and its spend counts from 0 again: the next
  -- period's start; null for `total`. The arithmetic in UTC, whatever the session's time zone.
  SELECT CASE WHEN p_period IN ('day', 'week', 'month')
           THEN (credit_key_period_start(p_period, p_at) AT TIME ZONE 'UTC' + ('1 ' || p_period)::interval) AT TIME ZONE 'UTC'
         END
$function$;
