CREATE OR REPLACE FUNCTION public.credit_granted_events(p_allocation_ids uuid[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
  -- credits.granted for each new allocation, in the order given: whatever made it (a grant, a
  -- plan's period or rollover, a purchase, a promotion, a transfer's lot), to a user or to an
  -- organisation, the event is the same: {allocationId, credits (all it was granted), expiresAt
  -- (ISO-8601 UTC with milliseconds), source} beside the account (credit_event()).
  BEGIN
    PERFORM credit_event('credits.granted', c.account_id, jsonb_build_object(
              'allocationId', c.id, 'credits', c.total_credits,
              'expiresAt', to_char(c.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
              'source', c.source))
       FROM unnest(p_allocation_ids) WITH ORDINALITY AS g(id, ord)
       JOIN credit_allocations c ON c.id = g.id
      ORDER BY g.ord;
  END $function$;
