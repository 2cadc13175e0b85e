CREATE OR REPLACE FUNCTION public.credits_notice_expiring(p_hours integer[], p_batch integer)
 RETURNS TABLE(out_processed integer, out_told integer)
 LANGUAGE plpgsql
AS $function$
  -- One batch of the credits.expiring notices, at several lead times (p_hours, e.g. {168,24}). An
  -- allocation is due when it expires within a lead time shorter than any it was considered at
  -- (expiring_notice_hours): it is considered at the shortest lead time now reached (a run that came
  -- late sends one notice, not one per missed lead time), and once the shortest of all is considered
  -- it is done (expiring_notified). It gets its event, with leadHours, when it has credits left and
  -- that lead time had not already passed when it was allocated, naming the account as every
  -- movement's event does (credit_event()). Rows a movement or another instance holds are skipped
  -- (the next run gets them). It moves no credits, so it takes no account lock; it is here so that
  -- only the engine's functions write the credit tables.
  DECLARE
    v_processed integer;
    v_told integer;
    v_longest integer := (SELECT max(h) FROM unnest(p_hours) h);
    v_shortest integer := (SELECT min(h) FROM unnest(p_hours) h);
  BEGIN
    WITH due AS (
      SELECT c.id, c.account_id, c.remaining_credits, c.expires_at, c.allocated_at,
             (SELECT min(h) FROM unnest(p_hours) h
               WHERE c.expires_at <= now() + make_interval(hours => h)
                 AND h < COALESCE(c.expiring_notice_hours, 2147483647)) AS lead
        FROM credit_allocations c
       WHERE NOT c.expiring_notified AND credit_allocation_live(c.expires_at)
         AND c.expires_at <= now() + make_interval(hours => v_longest)
         AND EXISTS (SELECT 1 FROM unnest(p_hours) h
                      WHERE c.expires_at <= now() + make_interval(hours => h)
                        AND h < COALESCE(c.expiring_notice_hours, 2147483647))
       ORDER BY c.expires_at LIMIT p_batch
         FOR UPDATE OF c SKIP LOCKED),
    marked AS (
      UPDATE credit_allocations a
         SET expiring_notice_hours = due.lead, expiring_notified = (due.lead <= v_shortest)
        FROM due WHERE a.id = due.id RETURNING a.id),
    told AS (
      SELECT credit_event('credits.expiring', due.account_id, jsonb_build_object(
               'allocationId', due.id, 'remainingCredits', due.remaining_credits,
               'expiresAt', to_char(due.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'leadHours', due.lead))
        FROM due
       WHERE due.remaining_credits > 0
         AND due.expires_at - make_interval(hours => due.lead) >= due.allocated_at)
    SELECT (SELECT count(*) FROM marked), (SELECT count(*) FROM told) INTO v_processed, v_told;
    RETURN QUERY SELECT v_processed, v_told;
  END $function$;
