CREATE OR REPLACE FUNCTION public.credits_freeze(p_allocation_id uuid, p_freeze boolean, p_created_by character varying, p_thresholds integer[],
    p_api_key_id uuid DEFAULT NULL::uuid)
 RETURNS integer
 LANGUAGE plpgsql
AS $function$
  -- A dispute's freeze, under the account lock. Freezing moves the allocation's live remaining
  -- credits out of remaining_credits through one `freeze` line, so every path that spends, holds,
  -- transfers or counts the balance (credit_allocations_fifo(), credit_available(), the balance
  -- reads: all of them read remaining_credits) leaves them alone without a test of its own; what is
  -- frozen is −Σ its freeze and unfreeze lines. Unfreezing puts them back through one `unfreeze` line;
  -- when the allocation expired or was voided meanwhile they leave again at once (`expire` / `void`),
  -- as a late release does. The allocation's `frozen` flag says a dispute is open: credits an open
  -- session gives back to it meanwhile are frozen as they arrive (credits_give_back()), so what was
  -- held when the dispute opened never becomes spendable during it either; unfreezing puts those back
  -- too (they are freeze lines). Its lines name the API key that acted (p_api_key_id). Answers the
  -- credits frozen or unfrozen.
  DECLARE
    a credit_allocations%ROWTYPE;
    v_n integer;
    v_live boolean;
    v_balance bigint;
    v_value bigint;
  BEGIN
    SELECT * INTO a FROM credit_allocations c WHERE c.id = p_allocation_id;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'credits_freeze: no allocation %', p_allocation_id;
    END IF;
    PERFORM 1 FROM credits_lock_account_ids(ARRAY[a.account_id]);
    SELECT * INTO a FROM credit_allocations c WHERE c.id = p_allocation_id FOR UPDATE;
    v_live := credit_allocation_live(a.expires_at) AND a.voided_at IS NULL;
    v_balance := credit_available(a.account_id);
    UPDATE credit_allocations c SET frozen = p_freeze WHERE c.id = a.id AND c.frozen IS DISTINCT FROM p_freeze;
    IF p_freeze THEN
      v_n := CASE WHEN v_live THEN a.remaining_credits ELSE 0 END;
      IF v_n > 0 THEN
        PERFORM credit_ledger_write(ARRAY[a.account_id], ARRAY[a.id], ARRAY['freeze']::varchar[], ARRAY[-v_n],
                                    ARRAY[v_balance - v_n], ARRAY[NULL]::uuid[], NULL, p_api_key_id, p_created_by);
        PERFORM credit_balance_alerts(a.account_id, v_balance, v_balance - v_n, credit_thresholds(a.account_id, p_thresholds));
      END IF;
      RETURN v_n;
    END IF;
    -- The frozen credits and their money (docs/finance.md: frozen money stays in the liability).
    SELECT COALESCE(-sum(l.amount), 0)::integer, (-sum(l.value_minor))::bigint INTO v_n, v_value FROM credit_ledger l
     WHERE l.allocation_id = a.id AND l.kind IN ('freeze', 'unfreeze');
    IF v_n > 0 THEN
      IF v_live THEN
        PERFORM credit_ledger_write(ARRAY[a.account_id], ARRAY[a.id], ARRAY['unfreeze']::varchar[], ARRAY[v_n],
                                    ARRAY[v_balance + v_n], ARRAY[NULL]::uuid[], NULL, p_api_key_id, p_created_by, NULL,
                                    ARRAY[v_value]);
      ELSE
        PERFORM credit_ledger_write(ARRAY[a.account_id, a.account_id], ARRAY[a.id, a.id],
                                    ARRAY['unfreeze', CASE WHEN a.voided_at IS NULL THEN 'expire' ELSE 'void' END]::varchar[],
                                    ARRAY[v_n, -v_n], ARRAY[v_balance, v_balance], ARRAY[NULL, NULL]::uuid[], NULL, p_api_key_id,
                                    p_created_by, NULL, ARRAY[v_value, NULL]);
      END IF;
    END IF;
    RETURN v_n;
  END $function$;
