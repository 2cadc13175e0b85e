CREATE OR REPLACE FUNCTION public.credits_settle_hold(p_account_id bigint, p_session_id character varying, p_charge integer, p_created_by character varying,
    p_usage_record_id uuid, p_member_id character varying DEFAULT NULL::character varying)
 RETURNS TABLE(out_status character varying, out_held bigint, out_refund bigint, out_api_key_id uuid, out_released bigint, out_expired bigint,
    out_voided bigint, out_taken_back integer, out_held_at timestamp with time zone)
 LANGUAGE plpgsql
AS $function$
  -- The hold of session p_session_id on account p_account_id settled at p_charge (credits_settle(),
  -- its one caller, which holds the account's lock): what the session holds beyond the charge goes back (credits_give_back()), the
  -- key's counter with it, and the hold row is marked settled. 'no_hold' when the account has no hold
  -- row for the session (nothing written), 'already_settled' when it was settled before. The row
  -- answers what credits_settle() needs of the hold too (out_taken_back: what refunds and lost
  -- disputes took back from it; out_held_at: when it was made), so the hold is read once.
  -- An exact settlement (nothing to give back) makes no call and writes the hold row only: it is
  -- the streaming pair's finalize, and every statement costs its start-up. A hold that counted against
  -- budgets (credit_holds.budget_ids) gives the unused part back to them too.
  DECLARE
    g record;
    v_outstanding integer;
    v_settled boolean;
    v_key uuid;
    v_key_start timestamptz;
    v_held bigint := 0;
    v_refund bigint;
    v_budgets bigint[];
    v_budget_starts timestamptz[];
  BEGIN
    IF p_charge IS NULL OR p_charge < 0 THEN
      RAISE EXCEPTION 'credits_settle_hold: charge must be a non-negative integer';
    END IF;
    -- Session ids belong to their account: (session_id, account_id) names the hold.
    SELECT c.outstanding, c.settled_at IS NOT NULL, c.api_key_id, c.key_period_start, c.taken_back, c.created_at,
           c.budget_ids, c.budget_starts
      INTO v_outstanding, v_settled, v_key, v_key_start, out_taken_back, out_held_at, v_budgets, v_budget_starts
      FROM credit_holds c WHERE c.session_id = p_session_id AND c.account_id = p_account_id FOR UPDATE;
    out_held := 0; out_refund := 0; out_released := 0; out_expired := 0; out_voided := 0;
    IF NOT FOUND OR v_settled THEN
      out_status := CASE WHEN v_settled THEN 'already_settled' ELSE 'no_hold' END;
      RETURN NEXT;
      RETURN;
    END IF;
    v_held := v_outstanding;
    v_refund := GREATEST(0, v_held - p_charge);
    IF v_refund > 0 THEN
      SELECT * INTO g FROM credits_give_back(p_account_id, p_session_id, v_refund::int, p_created_by, p_usage_record_id, v_key,
                                                 p_member_id);
      out_released := g.out_released; out_expired := g.out_expired; out_voided := g.out_voided;
      IF v_key IS NOT NULL THEN
        -- back to the key's bucket of the period the hold counted in (a later period's is not touched)
        PERFORM credit_cap_spend_add('key', ARRAY[v_key::varchar], ARRAY[NULL::bigint], v_key_start, ARRAY[-v_refund]);
      END IF;
      IF v_budgets IS NOT NULL THEN
        -- back to each budget's count of the period the hold counted in (docs/budgets.md)
        PERFORM credit_budget_count(v_budgets, array_fill(p_account_id, ARRAY[cardinality(v_budgets)]), v_budget_starts,
                                    array_fill(-v_refund, ARRAY[cardinality(v_budgets)]));
      END IF;
    END IF;
    UPDATE credit_holds c SET outstanding = 0, settled_at = now()
     WHERE c.session_id = p_session_id AND c.account_id = p_account_id;
    out_status := 'ok'; out_held := v_held; out_refund := v_refund; out_api_key_id := v_key;
    RETURN NEXT;
  END $function$;
