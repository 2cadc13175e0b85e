CREATE OR REPLACE FUNCTION public.credits_expire_due(p_batch integer, p_thresholds integer[], p_renewing uuid[], p_renewing_due timestamp with time zone[])
 RETURNS TABLE(out_due integer, out_expired integer, out_credits bigint)
 LANGUAGE plpgsql
AS $function$
  -- One round of the expiry job, under the account lock like every movement: the accounts of the
  -- p_batch soonest-expired allocations due (expired, not yet processed), locked in id order; then every due
  -- allocation of theirs gets one `expire` line when it still has credits (credit_ledger_write()
  -- empties it), is marked processed (expiry_done, also when nothing was left), and tells
  -- credits.expired, naming the account as every movement's event does (credit_event()); then each
  -- account's balance alerts for what expired (the balance had dropped when the allocations
  -- expired; the job tells it now, under the lock, so a take's alerts and the job's cannot both
  -- send one). A plan period's allocation waits for its renewal, which may roll some of it over:
  -- p_renewing are the subscriptions whose renewal is due (live, next grant at p_renewing_due, not
  -- after now()), as the plans module tells them (CreditsService.expireDue composes its part), and an
  -- allocation of one of them whose period ends at or after that next grant is not due yet; the
  -- credits module reads no plans table. Answers how many due allocations chose the accounts (fewer
  -- than p_batch: none left), the entries and the credits.
  DECLARE
    v_accounts bigint[];
    v_due integer;
    v_ids uuid[];
    v_account_ids bigint[];
    v_amounts integer[];
    v_balances bigint[];
    v_expiries timestamptz[];
    v_n integer;
  BEGIN
    -- The accounts of the p_batch soonest-expired allocations due (the job's index on expires_at
    -- finds them without reading the whole backlog).
    SELECT array_agg(DISTINCT d.account_id ORDER BY d.account_id), count(*) INTO v_accounts, v_due
      FROM (SELECT c.account_id FROM credit_allocations c
             WHERE c.expires_at <= now() AND NOT c.expiry_done
               AND NOT (c.source = 'plan' AND EXISTS (
                     SELECT 1 FROM unnest(p_renewing, p_renewing_due) r(subscription_id, next_grant_at)
                      WHERE r.subscription_id = c.subscription_id AND r.next_grant_at <= c.expires_at))
             ORDER BY c.expires_at LIMIT p_batch) d;
    IF v_accounts IS NULL THEN
      RETURN QUERY SELECT 0, 0, 0::bigint;
      RETURN;
    END IF;
    PERFORM 1 FROM credits_lock_account_ids(v_accounts);

    WITH due AS (
      SELECT c.id, c.account_id, c.remaining_credits, c.expires_at, c.allocated_at FROM credit_allocations c
       WHERE c.account_id = ANY (v_accounts) AND c.expires_at <= now() AND NOT c.expiry_done
         AND NOT (c.source = 'plan' AND EXISTS (
               SELECT 1 FROM unnest(p_renewing, p_renewing_due) r(subscription_id, next_grant_at)
                WHERE r.subscription_id = c.subscription_id AND r.next_grant_at <= c.expires_at))
       ORDER BY c.account_id, c.expires_at, c.allocated_at, c.id
         FOR UPDATE OF c),
    marked AS (UPDATE credit_allocations a SET expiry_done = true FROM due WHERE a.id = due.id)
    SELECT array_agg(due.id ORDER BY due.account_id, due.expires_at, due.allocated_at, due.id),
           array_agg(due.account_id ORDER BY due.account_id, due.expires_at, due.allocated_at, due.id),
           array_agg(-due.remaining_credits ORDER BY due.account_id, due.expires_at, due.allocated_at, due.id),
           array_agg(credit_available(due.account_id) ORDER BY due.account_id, due.expires_at, due.allocated_at, due.id),
           array_agg(due.expires_at ORDER BY due.account_id, due.expires_at, due.allocated_at, due.id)
      INTO v_ids, v_account_ids, v_amounts, v_balances, v_expiries
      FROM due WHERE due.remaining_credits > 0;
    v_n := COALESCE(cardinality(v_ids), 0);
    IF v_n > 0 THEN
      -- Expired allocations are out of the balance already: each line leaves it as it is. Finance books
      -- each in the period of its expires_at, whenever the job runs (docs/finance.md).
      PERFORM credit_ledger_write(v_account_ids, v_ids, array_fill('expire'::varchar, ARRAY[v_n]), v_amounts, v_balances,
                                  array_fill(NULL::uuid, ARRAY[v_n]), NULL, NULL, 'system', NULL, NULL, NULL, v_expiries);
      PERFORM credit_event('credits.expired', e.account_id, jsonb_build_object('allocationId', e.id, 'credits', -e.amount))
         FROM unnest(v_account_ids, v_ids, v_amounts) WITH ORDINALITY AS e(account_id, id, amount, ord)
        ORDER BY e.ord;
      PERFORM credit_balance_alerts(g.account_id, g.after + g.expired, g.after, credit_thresholds(g.account_id, p_thresholds))
         FROM (SELECT e.account_id, min(e.balance_after) AS after, -sum(e.amount) AS expired
                 FROM unnest(v_account_ids, v_amounts, v_balances) AS e(account_id, amount, balance_after)
                GROUP BY e.account_id ORDER BY e.account_id) g;
    END IF;
    RETURN QUERY SELECT v_due, v_n,
                        COALESCE((SELECT -sum(x) FROM unnest(v_amounts) x), 0)::bigint;
  END $function$;
