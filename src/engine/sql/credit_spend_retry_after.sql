CREATE OR REPLACE FUNCTION public.credit_spend_retry_after(p_window integer[], p_minute bigint, p_ask bigint, p_limit integer)
 RETURNS integer
 LANGUAGE sql
 STABLE
AS $function$
  -- A spend refused by the hourly limit: the seconds until enough of the oldest minutes have left
  -- the window (as credit_spend_window() gives it at p_minute) for p_ask to fit under p_limit; an
  -- hour when even an empty window would not do.
  SELECT COALESCE(
           (SELECT GREATEST(1, ceil((x.m + 60) * 60 - extract(epoch FROM now())))::integer
              FROM (SELECT g.m, sum(COALESCE(p_window[((g.m % 60) + 1)::int], 0)) OVER (ORDER BY g.m) AS freed
                      FROM generate_series(p_minute - 59, p_minute) AS g(m)) x
             WHERE (SELECT sum(w) FROM unnest(p_window) w) - x.freed + p_ask <= p_limit
             ORDER BY x.m LIMIT 1),
           3600)
$function$;
