CREATE OR REPLACE FUNCTION public.credit_take_settings(p_account_ids bigint[], p_rate_default integer, p_thresholds integer[], p_minute bigint,
    OUT out_limit integer[], OUT out_overdraft integer[], OUT out_owed bigint[], OUT out_used bigint[], OUT out_recharge boolean, OUT out_top_threshold integer)
 RETURNS record
 LANGUAGE plpgsql
AS $function$
  -- The accounts' settings for a take (credits_take_events()), read under the lock, each account
  -- p_account_ids[u] at position u: its hourly limit (its own, else p_rate_default), overdraft limit
  -- and debt, and for an account with an hourly limit what it spent in the last hour as of minute
  -- p_minute (the stored buckets still in the hour; else 0). Whether any account recharges
  -- automatically, and the highest low-balance threshold that may apply (an account's own, else
  -- p_thresholds): a movement ending above it and above 0 sends no alert, so the take asks for none.
  -- A batch of one reads its account as one row (no statement over its arrays: 15 to 22 % of a
  -- single take's time in the database, docs/benchmarks.md "The batch of one's forks").
  DECLARE
    acc credit_accounts%ROWTYPE;
    k integer;
  BEGIN
    IF cardinality(p_account_ids) = 1 THEN
      SELECT * INTO acc FROM credit_accounts c WHERE c.account_id = p_account_ids[1];
      out_limit := ARRAY[COALESCE(acc.max_credits_per_hour, p_rate_default)]; out_overdraft := ARRAY[acc.overdraft_limit];
      out_owed := ARRAY[COALESCE(acc.debt, 0)]; out_used := ARRAY[0::bigint];
      out_recharge := acc.recharge_below IS NOT NULL;
      FOREACH k IN ARRAY COALESCE(acc.low_balance_thresholds, p_thresholds, '{}') LOOP out_top_threshold := GREATEST(out_top_threshold, k); END LOOP;
      IF out_limit[1] IS NOT NULL THEN
        out_used[1] := (SELECT COALESCE(sum(x), 0) FROM unnest(credit_spend_window(acc.spend_window, acc.spend_minute, p_minute)) x);
      END IF;
      RETURN;
    END IF;
    SELECT array_agg(COALESCE(c.max_credits_per_hour, p_rate_default) ORDER BY u.ord),
           array_agg(c.overdraft_limit ORDER BY u.ord), array_agg(COALESCE(c.debt, 0) ORDER BY u.ord),
           array_agg(CASE WHEN COALESCE(c.max_credits_per_hour, p_rate_default) IS NULL THEN 0
                          ELSE COALESCE((SELECT sum(x) FROM unnest(credit_spend_window(c.spend_window, c.spend_minute, p_minute)) x), 0)
                     END::bigint ORDER BY u.ord),
           bool_or(c.recharge_below IS NOT NULL), max((SELECT max(t) FROM unnest(c.low_balance_thresholds) t))
      INTO out_limit, out_overdraft, out_owed, out_used, out_recharge, out_top_threshold
      FROM unnest(p_account_ids) WITH ORDINALITY AS u(account_id, ord)
      LEFT JOIN credit_accounts c ON c.account_id = u.account_id;
    out_top_threshold := GREATEST(out_top_threshold, (SELECT max(t) FROM unnest(p_thresholds) t));
  END $function$;
