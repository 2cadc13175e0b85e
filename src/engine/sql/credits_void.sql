CREATE OR REPLACE FUNCTION public.credits_void(p_allocation_id uuid, p_voided_by character varying, p_reason text, p_thresholds integer[])
 RETURNS SETOF credit_allocations
 LANGUAGE plpgsql
AS $function$
  -- A void, under the account lock: the allocation's remaining credits leave through one `void` line
  -- (with the balance alerts it crosses) and it is marked voided, the first void's who, when and why
  -- kept. Voiding again moves nothing. Answers the allocation as it stands after; no row when there
  -- is no such allocation.
  DECLARE
    v_account bigint;
    a credit_allocations%ROWTYPE;
    v_balance bigint;
    v_after bigint;
  BEGIN
    SELECT c.account_id INTO v_account FROM credit_allocations c WHERE c.id = p_allocation_id;
    IF NOT FOUND THEN
      RETURN;
    END IF;
    PERFORM 1 FROM credits_lock_account_ids(ARRAY[v_account]);
    SELECT * INTO a FROM credit_allocations c WHERE c.id = p_allocation_id FOR UPDATE;
    IF a.voided_at IS NULL OR a.remaining_credits > 0 THEN
      IF a.remaining_credits > 0 THEN
        v_balance := credit_available(v_account);
        v_after := v_balance - CASE WHEN credit_allocation_live(a.expires_at) THEN a.remaining_credits ELSE 0 END;
        PERFORM credit_ledger_write(ARRAY[v_account], ARRAY[a.id], ARRAY['void']::varchar[], ARRAY[-a.remaining_credits],
                                    ARRAY[v_after], ARRAY[NULL]::uuid[], NULL, NULL, p_voided_by);
        IF v_after < v_balance THEN
          PERFORM credit_balance_alerts(v_account, v_balance, v_after, credit_thresholds(v_account, p_thresholds));
        END IF;
      END IF;
      UPDATE credit_allocations c
         SET voided_at = COALESCE(c.voided_at, now()), voided_by = COALESCE(c.voided_by, p_voided_by),
             void_reason = COALESCE(c.void_reason, p_reason)
       WHERE c.id = p_allocation_id;
    END IF;
    RETURN QUERY SELECT * FROM credit_allocations c WHERE c.id = p_allocation_id;
  END $function$;
