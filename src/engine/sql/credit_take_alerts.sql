CREATE OR REPLACE FUNCTION public.credit_take_alerts(p_accounts bigint[], p_event_accounts integer[], p_before bigint[], p_after bigint[],
    p_status character varying[], p_thresholds integer[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
  -- The balance alerts of a take's movements (credits_take_events()), in the order they happened,
  -- each decided by credit_balance_alerts() (which also keeps which thresholds are armed). Event i
  -- moved account p_accounts[p_event_accounts[i]] from p_before[i] to p_after[i] when p_status[i] is
  -- 'ok'; an account without thresholds of its own has p_thresholds. Only the movements that cross a
  -- threshold or reach 0 make a call: for the others the function does nothing.
  BEGIN
    PERFORM credit_balance_alerts(mv.account_id, mv.before, mv.after, mv.thresholds)
       FROM (SELECT p_accounts[e.u] AS account_id, e.before, e.after, COALESCE(c.low_balance_thresholds, p_thresholds) AS thresholds
               FROM unnest(p_event_accounts, p_before, p_after, p_status) WITH ORDINALITY AS e(u, before, after, status, ord)
               LEFT JOIN credit_accounts c ON c.account_id = p_accounts[e.u]
              WHERE e.status = 'ok' AND e.after < e.before
              ORDER BY e.ord) mv
      WHERE (mv.before > 0 AND mv.after <= 0) OR EXISTS (SELECT 1 FROM unnest(mv.thresholds) t WHERE mv.before >= t AND mv.after < t);
  END $function$;
