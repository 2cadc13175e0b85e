CREATE OR REPLACE FUNCTION public.credit_cap_limit_event(p_kind character varying, p_subject character varying, p_account_id bigint, p_limit bigint,
    p_period character varying, p_spent_before bigint, p_charged bigint)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
  -- The event of the charge (p_charged, on the account p_account_id) that takes a cap's spend in its
  -- period (p_spent_before, as the decision read it) from below its limit to the limit or past it.
  -- key: api_key.limit_reached, once per period because later charges start at or past the limit;
  -- charging an organisation, it names the org and the key's owner (the account has no user).
  -- member: org.member_limit_reached, once per member and period (credit_caps.limit_reached_period
  -- keeps the period it was sent for), so a give-back that brings the spend under the limit again, or
  -- a limit changed in the period, sends no second one.
  DECLARE
    v_start date;
    v_org varchar;
  BEGIN
    IF p_limit IS NULL OR p_charged <= 0 OR p_spent_before + p_charged < p_limit THEN
      RETURN;
    END IF;
    IF p_kind = 'key' THEN
      IF p_spent_before < p_limit THEN
        PERFORM emit_event('api_key.limit_reached', COALESCE(u.user_id, k.owner_id), jsonb_build_object(
          'userId', COALESCE(u.user_id, k.owner_id), 'apiKeyId', p_subject::uuid, 'creditLimit', p_limit, 'limitPeriod', p_period)
          || CASE WHEN u.org_id IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('orgId', u.org_id) END)
          FROM accounts u
          LEFT JOIN credit_caps k ON k.subject_kind = 'key' AND k.subject_id = p_subject AND k.account_id = 0
         WHERE u.account_id = p_account_id;
      END IF;
    ELSIF p_kind = 'member' THEN
      v_start := (credit_key_period_start(p_period, now()) AT TIME ZONE 'UTC')::date;
      SELECT a.org_id INTO v_org FROM accounts a WHERE a.account_id = p_account_id;
      UPDATE credit_caps c SET limit_reached_period = v_start
       WHERE c.subject_kind = 'member' AND c.subject_id = p_subject AND c.account_id = p_account_id
         AND c.limit_reached_period IS DISTINCT FROM v_start;
      IF FOUND THEN
        PERFORM emit_event('org.member_limit_reached', p_subject, jsonb_build_object(
          'orgId', v_org, 'userId', p_subject, 'limit', p_limit, 'spentInPeriod', p_spent_before + p_charged,
          'period', p_period));
      END IF;
    END IF;
  END $function$;
