CREATE OR REPLACE FUNCTION public.credits_settle_hold(p_account_id bigint, p_session_id character varying, p_charge integer, p_created_by character varying, p_usage_record_id uuid, p_member_id character varying DEFAULT NULL::character varying)
 RETURNS TABLE(out_status character varying, out_held bigint, out_refund bigint, out_api_key_id uuid, out_released bigint, out_expired bigint, out_voided bigint)
 LANGUAGE plpgsql
AS $function$
  DECLARE
    g record;
    v_found boolean;
    v_outstanding integer;
    v_settled boolean;
    v_key uuid;
    v_key_start timestamptz;
    v_held bigint := 0;
    v_refund bigint;
  BEGIN
    IF p_charge IS NULL OR p_charge < 0 THEN
      RAISE EXCEPTION 'credits_settle_hold: charge must be a non-negative integer';
    END IF;
    PERFORM 1 FROM credits_lock_account_ids(ARRAY[p_account_id]);
    -- Session ids belong to their account: (session_id, account_id) names the hold.
    SELECT c.outstanding, c.settled_at IS NOT NULL, c.api_key_id, c.key_period_start
      INTO v_outstanding, v_settled, v_key, v_key_start
      FROM credit_holds c WHERE c.session_id = p_session_id AND c.account_id = p_account_id FOR UPDATE;
    v_found := FOUND;
    IF v_found AND v_settled THEN
      RETURN QUERY SELECT 'already_settled'::varchar, 0::bigint, 0::bigint, NULL::uuid, 0::bigint, 0::bigint, 0::bigint;
      RETURN;
    END IF;
    v_held := COALESCE(v_outstanding, 0);
    v_refund := GREATEST(0, v_held - p_charge);
    SELECT * INTO g FROM credits_give_back(p_account_id, p_session_id, v_refund::int, p_created_by, p_usage_record_id, v_key,
                                               p_member_id);
    IF v_refund > 0 AND v_key IS NOT NULL THEN
      -- back to the key's bucket of the period the hold counted in (a later period's is not touched)
      PERFORM credit_cap_spend_add('key', ARRAY[v_key::varchar], ARRAY[NULL::bigint], v_key_start, ARRAY[-v_refund]);
    END IF;
    INSERT INTO credit_holds (session_id, account_id, member_id, outstanding, settled_at)
    SELECT p_session_id, a.account_id, COALESCE(a.user_id, p_member_id), 0, now() FROM accounts a WHERE a.account_id = p_account_id
    ON CONFLICT (session_id, account_id) DO UPDATE SET outstanding = 0, settled_at = now();
    RETURN QUERY SELECT 'ok'::varchar, v_held, v_refund, v_key, g.out_released, g.out_expired, g.out_voided;
  END $function$;
