CREATE OR REPLACE FUNCTION public.org_member_limit_event(p_org_id character varying, p_user_id character varying, p_limit bigint, p_period character varying, p_spent_before bigint, p_charged bigint)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
  -- org.member_limit_reached, sent by the charge that takes a member's spend in the period of their
  -- limit (p_spent_before, as the decision read it) to the limit or past it; once per member and
  -- period (org_members.limit_reached_period keeps the period it was sent for), so a give-back that
  -- brings the spend under the limit again, or a limit changed in the period, sends no second one.
  DECLARE
    v_start date;
  BEGIN
    IF p_limit IS NULL OR p_charged <= 0 OR p_spent_before + p_charged < p_limit THEN
      RETURN;
    END IF;
    v_start := date_trunc(CASE p_period WHEN 'week' THEN 'week' WHEN 'month' THEN 'month' ELSE 'day' END,
                          now() AT TIME ZONE 'UTC')::date;
    UPDATE org_members m SET limit_reached_period = v_start
     WHERE m.org_id = p_org_id AND m.user_id = p_user_id AND m.limit_reached_period IS DISTINCT FROM v_start;
    IF FOUND THEN
      PERFORM emit_event('org.member_limit_reached', p_user_id, jsonb_build_object(
        'orgId', p_org_id, 'userId', p_user_id, 'limit', p_limit, 'spentInPeriod', p_spent_before + p_charged,
        'period', p_period));
    END IF;
  END $function$;
