CREATE OR REPLACE FUNCTION public.credit_cap_spent(p_kind character varying, p_subject character varying, p_account_id bigint, p_period character varying,
    p_at timestamp with time zone)
 RETURNS TABLE(spent bigint)
 LANGUAGE sql
 STABLE
AS $function$
  -- What a cap's subject spent in the UTC calendar period of its limit that contains p_at (callers
  -- pass now() or the app's clock): the sum of its credit_cap_spend buckets of that period up to p_at,
  -- one row. A key's bucket is its whole period (a bucket of an earlier period, or of a period the key's budget
  -- no longer has, is 0 spent; `total` never resets); a member's is a UTC day, so a limit's period is a
  -- sum of days, held credits of open sessions included, and a period of NULL (no limit) counts p_at's
  -- day. A member's counter is per organisation (p_account_id, the org's account); a key's spans every
  -- account it charges (p_account_id NULL). A table of one row, read in FROM (`LEFT JOIN LATERAL
  -- credit_cap_spent(…) ON …`): PostgreSQL inlines such a function into the statement that reads it,
  -- planned and kept with it, so a take of many members reads their spend in its one statement. (Its
  -- scalar form, called once a member, was a quarter of the database's CPU for a statement of an
  -- organisation's records that arrive together; as a scalar LANGUAGE sql function it was planned
  -- again at every call.)
  SELECT COALESCE(sum(s.spent), 0)::bigint
    FROM credit_cap_spend s
   WHERE s.subject_kind = p_kind AND s.subject_id = p_subject AND s.account_id = COALESCE(p_account_id, 0)
     AND s.period_start >= credit_key_period_start(COALESCE(p_period, 'day'), p_at)
     AND s.period_start <= CASE p_kind WHEN 'key' THEN credit_key_period_start(p_period, p_at) ELSE p_at END
$function$;
