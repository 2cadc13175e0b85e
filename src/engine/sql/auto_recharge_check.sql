CREATE OR REPLACE FUNCTION public.auto_recharge_check(p_account_id bigint, p_available bigint)
 RETURNS uuid
 LANGUAGE plpgsql
AS $function$
  -- Auto-recharge's one decision (docs/auto-recharge.md), called by a take under the account lock when
  -- its charge left the account's available credits (held ones excluded) at p_available, below the
  -- cached credit_accounts.recharge_below. Opens one attempt and emits auto_recharge.requested, unless
  -- an attempt is open, the last one opened less than min_interval_minutes ago (failed ones included),
  -- or its credits with this UTC month's attempts that did not fail would pass max_credits_per_month.
  -- Answers the attempt opened, else null.
  DECLARE
    s auto_recharge_settings%ROWTYPE;
    v_last timestamptz;
    v_month bigint;
    v_id uuid;
  BEGIN
    SELECT * INTO s FROM auto_recharge_settings c WHERE c.account_id = p_account_id;
    IF NOT FOUND OR NOT s.enabled OR p_available >= s.below_credits THEN
      RETURN NULL;
    END IF;
    SELECT max(a.opened_at) INTO v_last FROM auto_recharge_attempts a WHERE a.account_id = p_account_id;
    IF v_last > now() - make_interval(mins => s.min_interval_minutes)
       OR EXISTS (SELECT 1 FROM auto_recharge_attempts a WHERE a.account_id = p_account_id AND a.status = 'open') THEN
      RETURN NULL;
    END IF;
    IF s.max_credits_per_month IS NOT NULL THEN
      SELECT COALESCE(sum(a.credits), 0) INTO v_month FROM auto_recharge_attempts a
       WHERE a.account_id = p_account_id AND a.status <> 'failed'
         AND a.opened_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
      IF v_month + s.recharge_credits > s.max_credits_per_month THEN
        RETURN NULL;
      END IF;
    END IF;
    INSERT INTO auto_recharge_attempts (account_id, credits) VALUES (p_account_id, s.recharge_credits)
    RETURNING id INTO v_id;
    -- Named as every event names its account (credit_event()).
    PERFORM credit_event('auto_recharge.requested', p_account_id,
      jsonb_build_object('attemptId', v_id, 'credits', s.recharge_credits));
    RETURN v_id;
  END $function$;
