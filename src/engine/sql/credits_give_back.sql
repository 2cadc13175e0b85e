CREATE OR REPLACE FUNCTION public.credits_give_back(p_account_id bigint, p_session_id character varying, p_amount integer, p_created_by character varying,
    p_usage_record_id uuid, p_api_key_id uuid, p_member_id character varying DEFAULT NULL::character varying)
 RETURNS TABLE(out_released bigint, out_expired bigint, out_voided bigint)
 LANGUAGE plpgsql
AS $function$
  DECLARE
    r record;
    v_left bigint := p_amount;
    v_give integer;
    v_balance bigint;
    v_ids uuid[] := '{}';
    v_amounts integer[] := '{}';
    v_balances bigint[] := '{}';
    v_kinds varchar[] := '{}';
    v_values bigint[] := '{}';
    v_released bigint := 0;
    v_expired bigint := 0;
    v_voided bigint := 0;
  BEGIN
    IF p_amount IS NULL OR p_amount < 0 THEN
      RAISE EXCEPTION 'credits_give_back: amount must be a non-negative integer';
    END IF;
    IF p_amount = 0 THEN
      RETURN QUERY SELECT 0::bigint, 0::bigint, 0::bigint;
      RETURN;
    END IF;
    v_balance := credit_available(p_account_id);
    -- What the session still holds per allocation, latest expiry first (ties: newest allocation).
    FOR r IN
      SELECT l.allocation_id, (-SUM(l.amount))::bigint AS outstanding, (-SUM(l.value_minor))::bigint AS held_value,
             credit_allocation_live(a.expires_at) AND a.voided_at IS NULL AS live, a.voided_at IS NOT NULL AS voided,
             a.frozen
        FROM credit_ledger l JOIN credit_allocations a ON a.id = l.allocation_id
       WHERE l.session_id = p_session_id AND l.account_id = p_account_id AND l.kind IN ('hold', 'release')
       GROUP BY l.allocation_id, a.expires_at, a.allocated_at, a.voided_at, a.frozen
      HAVING SUM(l.amount) < 0
       ORDER BY a.expires_at DESC, a.allocated_at DESC, l.allocation_id DESC
    LOOP
      EXIT WHEN v_left = 0;
      v_give := LEAST(v_left, r.outstanding);
      v_left := v_left - v_give;
      IF r.live AND NOT r.frozen THEN v_balance := v_balance + v_give; END IF;
      v_ids := v_ids || r.allocation_id; v_amounts := v_amounts || v_give;
      v_balances := v_balances || v_balance; v_kinds := v_kinds || 'release'::varchar;
      v_released := v_released + v_give;
      -- The money held for the lot that the credits kept do not take (docs/finance.md) goes back with them.
      v_values := v_values || (r.held_value - credit_value_share(r.held_value, r.outstanding - v_give, r.outstanding));
      IF NOT r.live OR r.frozen THEN
        -- Dead credits never look spendable: they leave again at once. So do credits coming back to
        -- a lot under dispute: frozen with the rest of it (credits_freeze()).
        v_ids := v_ids || r.allocation_id; v_amounts := v_amounts || -v_give;
        v_balances := v_balances || v_balance; v_values := v_values || NULL::bigint;
        v_kinds := v_kinds || CASE WHEN NOT r.live AND r.voided THEN 'void'
                                   WHEN NOT r.live THEN 'expire' ELSE 'freeze' END::varchar;
        IF NOT r.live AND r.voided THEN v_voided := v_voided - v_give;
        ELSIF NOT r.live THEN v_expired := v_expired - v_give;
        END IF;
      END IF;
    END LOOP;
    IF v_left > 0 THEN
      RAISE EXCEPTION 'credits_give_back: % credits more than session % holds', v_left, p_session_id;
    END IF;

    PERFORM credit_ledger_write(array_fill(p_account_id, ARRAY[cardinality(v_ids)]), v_ids, v_kinds, v_amounts, v_balances,
                                array_fill(p_usage_record_id, ARRAY[cardinality(v_ids)]), p_session_id, p_api_key_id,
                                p_created_by, array_fill(p_member_id, ARRAY[cardinality(v_ids)]), v_values);

    -- The lines' sums by kind, kept as they were written: a statement over the arrays cost its
    -- start-up at every settlement that gives credits back (the streaming pair's finalize).
    out_released := v_released; out_expired := v_expired; out_voided := v_voided;
    RETURN NEXT;
  END $function$;
