CREATE OR REPLACE FUNCTION public.auto_recharge_fail(p_attempt_id uuid, p_reason character varying)
 RETURNS TABLE(out_status character varying, out_account_id bigint, out_disabled boolean)
 LANGUAGE plpgsql
AS $function$
  -- The platform could not collect an attempt's payment: the attempt fails, under its account's lock.
  -- The third failure in a row (no success or PUT between) turns auto-recharge off
  -- (recharge_below cleared for the takes) and emits auto_recharge.disabled. Answers 'failed' (now),
  -- 'already_failed' (nothing changes), 'succeeded' (closed by its purchase: nothing changes) or
  -- 'not_found'.
  DECLARE
    v_account bigint;
    v_status varchar;
    v_failures integer;
  BEGIN
    SELECT a.account_id INTO v_account FROM auto_recharge_attempts a WHERE a.id = p_attempt_id;
    IF v_account IS NULL THEN
      RETURN QUERY SELECT 'not_found'::varchar, NULL::bigint, false;
      RETURN;
    END IF;
    PERFORM credits_lock_account_ids(ARRAY[v_account]);
    SELECT a.status INTO v_status FROM auto_recharge_attempts a WHERE a.id = p_attempt_id FOR UPDATE;
    IF v_status <> 'open' THEN
      RETURN QUERY SELECT CASE WHEN v_status = 'failed' THEN 'already_failed' ELSE v_status END::varchar, v_account, false;
      RETURN;
    END IF;
    UPDATE auto_recharge_attempts SET status = 'failed', closed_at = now(), reason = p_reason WHERE id = p_attempt_id;
    UPDATE auto_recharge_settings s SET consecutive_failures = s.consecutive_failures + 1
     WHERE s.account_id = v_account RETURNING s.consecutive_failures INTO v_failures;
    IF v_failures >= 3 THEN
      UPDATE auto_recharge_settings SET enabled = false, updated_at = now() WHERE account_id = v_account AND enabled;
      IF FOUND THEN
        UPDATE credit_accounts SET recharge_below = NULL, updated_at = now() WHERE account_id = v_account;
        -- Named as every event names its account (credit_event()).
        PERFORM credit_event('auto_recharge.disabled', v_account,
          jsonb_build_object('attemptId', p_attempt_id, 'consecutiveFailures', v_failures));
        RETURN QUERY SELECT 'failed'::varchar, v_account, true;
        RETURN;
      END IF;
    END IF;
    RETURN QUERY SELECT 'failed'::varchar, v_account, false;
  END $function$;
