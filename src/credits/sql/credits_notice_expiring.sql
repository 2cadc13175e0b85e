CREATE OR REPLACE FUNCTION public.credits_notice_expiring(p_hours integer, p_batch integer)
 RETURNS TABLE(out_processed integer, out_told integer)
 LANGUAGE plpgsql
AS $function$
  -- One batch of the credits.expiring notices: allocations expiring within p_hours not yet
  -- considered are marked (expiring_notified), and those with credits left get their event. Rows a
  -- movement or another instance holds are skipped (the next run gets them). It moves no credits,
  -- so it takes no account lock; it is here so that only the engine's functions write the credit tables.
  DECLARE
    v_processed integer;
    v_told integer;
  BEGIN
    WITH due AS (
      SELECT c.id, c.user_id, c.remaining_credits, c.expires_at FROM credit_allocations c
       WHERE NOT c.expiring_notified AND credit_allocation_live(c.expires_at)
         AND c.expires_at <= now() + make_interval(hours => p_hours)
       ORDER BY c.expires_at LIMIT p_batch
         FOR UPDATE SKIP LOCKED),
    marked AS (
      UPDATE credit_allocations a SET expiring_notified = true FROM due WHERE a.id = due.id RETURNING a.id),
    told AS (
      SELECT emit_event('credits.expiring', due.user_id, jsonb_build_object(
               'userId', due.user_id, 'allocationId', due.id, 'remainingCredits', due.remaining_credits,
               'expiresAt', to_char(due.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
        FROM due WHERE due.remaining_credits > 0)
    SELECT (SELECT count(*) FROM marked), (SELECT count(*) FROM told) INTO v_processed, v_told;
    RETURN QUERY SELECT v_processed, v_told;
  END $function$;
