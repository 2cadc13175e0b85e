CREATE OR REPLACE FUNCTION public.credit_allocation_live(p_expires_at timestamp with time zone)
 RETURNS boolean
 LANGUAGE sql
 STABLE
AS $function$
  -- Whether an allocation counts in the available balance: unexpired (a voided one has nothing left).
  -- The one home of "balance moves only for live allocations": credit_available(), the FIFO and every
  -- movement's balance_after ask it. LANGUAGE sql and STABLE, so it is inlined where it is used (an
  -- index on expires_at still serves).
  SELECT p_expires_at > now()
$function$;
