CREATE OR REPLACE FUNCTION public.credit_volume_period(p_account_id bigint, p_period character varying, p_at timestamp with time zone)
 RETURNS TABLE(out_start timestamp with time zone, out_end timestamp with time zone)
 LANGUAGE sql
 STABLE
AS $function$
  -- The volume period an instant falls in for an account: `month`, the UTC calendar month; `plan`,
  -- the plan period its plan allowance was granted for (the latest `plan` allocation whose period
  -- has started by then and that has not expired), else the UTC month.
  SELECT COALESCE(p.period_start, m.start), COALESCE(p.expires_at, m.start + interval '1 month')
    FROM (SELECT date_trunc('month', p_at, 'UTC') AS start) m
    LEFT JOIN LATERAL (
      SELECT a.period_start, a.expires_at
        FROM credit_allocations a
       WHERE p_period = 'plan' AND a.account_id = p_account_id AND a.source = 'plan'
         AND a.period_start <= p_at AND a.expires_at > p_at
       ORDER BY a.period_start DESC
       LIMIT 1) p ON true
$function$;
