CREATE OR REPLACE FUNCTION public.credits_expire_now(p_account_id bigint, p_ids uuid[], p_at timestamp with time zone, p_thresholds integer[])
 RETURNS TABLE(out_expired integer, out_credits bigint)
 LANGUAGE plpgsql
AS $function$
  -- A plan change that restarts the period (docs/plans.md): the old period's plan allocations p_ids
  -- of the account end at p_at, the change's instant, where the new period starts (so reconcile
  -- finds the rollover's source where it looks for it), under the account lock like every movement.
  -- What each has left leaves now, as the expiry job takes it from an expired one
  -- (credits_expire_due()): one `expire` line, credits.expired, then the account's balance alerts.
  -- Credits given back to one later leave again at once, or when p_at has passed (credits put back
  -- clear expiry_done). Only live plan
  -- allocations move: a purchased, promotional, correction, signup or rollover lot is never
  -- shortened here, whatever the caller names. Held credits are out of the lots already; a hold
  -- that gives some back later finds its lot expired and expires them (credits_give_back()).
  -- Answers the `expire` lines and their credits.
  DECLARE
    v_account bigint;
    v_before bigint;
    v_ids uuid[];
    v_amounts integer[];
    v_balances bigint[];
    v_n integer;
  BEGIN
    SELECT l.id INTO v_account FROM credits_lock_account_ids(ARRAY[p_account_id]) l(id);
    IF v_account IS NULL THEN
      RETURN QUERY SELECT 0, 0::bigint;
      RETURN;
    END IF;
    v_before := credit_available(v_account);
    WITH due AS (
      SELECT c.id, c.remaining_credits, c.expires_at, c.allocated_at FROM credit_allocations c
       WHERE c.id = ANY (p_ids) AND c.account_id = v_account AND c.source = 'plan'
         AND credit_allocation_live(c.expires_at) AND c.expires_at > p_at
       ORDER BY c.expires_at, c.allocated_at, c.id
         FOR UPDATE OF c),
    ended AS (UPDATE credit_allocations a SET expires_at = p_at, expiry_done = true FROM due WHERE a.id = due.id),
    lines AS (
      SELECT due.id, -due.remaining_credits AS amount,
             v_before - sum(due.remaining_credits) OVER (ORDER BY due.expires_at, due.allocated_at, due.id) AS balance,
             row_number() OVER (ORDER BY due.expires_at, due.allocated_at, due.id) AS ord
        FROM due WHERE due.remaining_credits > 0)
    SELECT array_agg(lines.id ORDER BY lines.ord), array_agg(lines.amount ORDER BY lines.ord),
           array_agg(lines.balance ORDER BY lines.ord)
      INTO v_ids, v_amounts, v_balances
      FROM lines;
    v_n := COALESCE(cardinality(v_ids), 0);
    IF v_n > 0 THEN
      PERFORM credit_ledger_write(array_fill(v_account, ARRAY[v_n]), v_ids, array_fill('expire'::varchar, ARRAY[v_n]),
                                  v_amounts, v_balances, array_fill(NULL::uuid, ARRAY[v_n]), NULL, NULL, 'system');
      PERFORM credit_event('credits.expired', v_account, jsonb_build_object('allocationId', e.id, 'credits', -e.amount))
         FROM unnest(v_ids, v_amounts) WITH ORDINALITY AS e(id, amount, ord)
        ORDER BY e.ord;
      PERFORM credit_balance_alerts(v_account, v_before, v_balances[v_n], credit_thresholds(v_account, p_thresholds));
    END IF;
    RETURN QUERY SELECT v_n, COALESCE((SELECT -sum(x) FROM unnest(v_amounts) x), 0)::bigint;
  END $function$;
