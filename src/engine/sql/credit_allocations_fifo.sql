CREATE OR REPLACE FUNCTION public.credit_allocations_fifo(p_account_ids bigint[])
 RETURNS TABLE(out_id uuid, out_account_id bigint, out_remaining integer)
 LANGUAGE plpgsql
AS $function$
  -- The accounts' live allocations (unexpired, credits left), locked, in the order a take spends
  -- them: by account, then soonest-expiring first (ties: oldest allocation, then id).
  -- The ids read as credits_lock_account_ids() reads them: one shape for one account and for many.
  -- A take of one account reads its lots in this order by a statement of its own (credit_take_lots()).
  BEGIN
    RETURN QUERY
      SELECT a.id, a.account_id, a.remaining_credits
        FROM credit_allocations a
       WHERE a.account_id IN (SELECT x.id FROM unnest(p_account_ids) AS x(id) LIMIT cardinality(p_account_ids))
         AND credit_allocation_live(a.expires_at) AND a.remaining_credits > 0
       ORDER BY a.account_id, a.expires_at, a.allocated_at, a.id
         FOR UPDATE OF a;
  END $function$;
