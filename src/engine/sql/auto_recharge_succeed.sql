CREATE OR REPLACE FUNCTION public.auto_recharge_succeed(p_attempt_id uuid, p_account_id bigint)
 RETURNS character varying
 LANGUAGE plpgsql
AS $function$
  -- Closes an auto-recharge attempt whose purchase was paid: called once from the purchase's paid path,
  -- in its transaction. The account is locked (as every auto-recharge change is: the takes open
  -- attempts under the same lock). Answers 'succeeded' (closed now, the failures in a row back to 0),
  -- 'already_succeeded', 'failed' (failed before its purchase was paid: it stays failed) or 'not_found'
  -- (unknown, or another account's).
  DECLARE
    v_account bigint;
    v_status varchar;
  BEGIN
    SELECT l.id INTO v_account FROM credits_lock_account_ids(ARRAY[p_account_id]) l(id);
    SELECT a.status INTO v_status FROM auto_recharge_attempts a
     WHERE a.id = p_attempt_id AND a.account_id = v_account FOR UPDATE;
    IF v_status IS NULL THEN
      RETURN 'not_found';
    ELSIF v_status = 'succeeded' THEN
      RETURN 'already_succeeded';
    ELSIF v_status = 'failed' THEN
      RETURN 'failed';
    END IF;
    UPDATE auto_recharge_attempts SET status = 'succeeded', closed_at = now() WHERE id = p_attempt_id;
    UPDATE auto_recharge_settings SET consecutive_failures = 0 WHERE account_id = v_account;
    RETURN 'succeeded';
  END $function$;
