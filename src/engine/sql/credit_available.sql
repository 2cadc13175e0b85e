CREATE OR REPLACE FUNCTION public.credit_available(p_account_id bigint)
 RETURNS bigint
 LANGUAGE plpgsql
 STABLE
AS $function$
  -- An account's available balance: the remaining credits of its unexpired allocations (held
  -- credits are out of them already; debt is apart). STABLE: it reads the caller's snapshot.
  BEGIN
    RETURN (SELECT COALESCE(sum(a.remaining_credits), 0)::bigint
              FROM credit_allocations a
             WHERE a.account_id = p_account_id AND credit_allocation_live(a.expires_at));
  END $function$;
