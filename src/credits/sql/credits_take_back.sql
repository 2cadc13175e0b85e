CREATE OR REPLACE FUNCTION public.credits_take_back(p_allocation_id uuid, p_credits integer, p_allow_debt boolean, p_debt_before integer, p_created_by character varying, p_thresholds integer[])
 RETURNS TABLE(out_taken integer, out_debt integer, out_refundable integer)
 LANGUAGE plpgsql
AS $function$
  -- Takes p_credits back from a purchase's allocation (a refund, a chargeback), under the account
  -- lock: what the allocation still has (live) leaves through one `refund` line; of the rest, what
  -- was already spent from it becomes the account's debt through one `debt` line (no allocation, like
  -- `overdraft`; credit_accounts.debt raised), never a silent loss. "Spent" is what left the
  -- allocation other than by expiry, void, refund or freeze (debits, holds, repays, transfers), less
  -- the debt earlier take-backs of it made (p_debt_before): expired credits were never spent, so
  -- they are not owed. Without p_allow_debt (an admin's refund) a take of more than the allocation
  -- has writes nothing (out_taken 0). Answers what left the allocation, the debt made, and what the
  -- allocation had before (its refundable credits).
  DECLARE
    a credit_allocations%ROWTYPE;
    v_refundable integer;
    v_take integer;
    v_debt integer := 0;
    v_spent bigint;
    v_balance bigint;
    v_after bigint;
    v_accounts bigint[] := '{}';
    v_ids uuid[] := '{}';
    v_kinds varchar[] := '{}';
    v_amounts integer[] := '{}';
    v_balances bigint[] := '{}';
  BEGIN
    IF p_credits IS NULL OR p_credits < 0 THEN
      RAISE EXCEPTION 'credits_take_back: credits must be a non-negative integer';
    END IF;
    SELECT * INTO a FROM credit_allocations c WHERE c.id = p_allocation_id;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'credits_take_back: no allocation %', p_allocation_id;
    END IF;
    PERFORM 1 FROM credits_lock_account_ids(ARRAY[a.account_id]);
    SELECT * INTO a FROM credit_allocations c WHERE c.id = p_allocation_id FOR UPDATE;
    v_refundable := CASE WHEN credit_allocation_live(a.expires_at) THEN a.remaining_credits ELSE 0 END;
    IF NOT p_allow_debt AND p_credits > v_refundable THEN
      RETURN QUERY SELECT 0, 0, v_refundable;
      RETURN;
    END IF;
    v_take := LEAST(p_credits, v_refundable);
    IF p_allow_debt AND p_credits > v_take THEN
      SELECT COALESCE(-sum(l.amount), 0) INTO v_spent FROM credit_ledger l
       WHERE l.allocation_id = a.id AND l.kind NOT IN ('grant', 'expire', 'void', 'refund', 'freeze', 'unfreeze');
      v_debt := LEAST(p_credits - v_take, GREATEST(v_spent - COALESCE(p_debt_before, 0), 0))::integer;
    END IF;
    IF v_take = 0 AND v_debt = 0 THEN
      RETURN QUERY SELECT 0, 0, v_refundable;
      RETURN;
    END IF;
    v_balance := credit_available(a.account_id);
    v_after := v_balance - v_take;
    IF v_take > 0 THEN
      v_accounts := v_accounts || a.account_id; v_ids := v_ids || a.id; v_kinds := v_kinds || 'refund'::varchar;
      v_amounts := v_amounts || -v_take; v_balances := v_balances || v_after;
    END IF;
    IF v_debt > 0 THEN
      v_accounts := v_accounts || a.account_id; v_ids := v_ids || NULL::uuid; v_kinds := v_kinds || 'debt'::varchar;
      v_amounts := v_amounts || -v_debt; v_balances := v_balances || v_after;
    END IF;
    PERFORM credit_ledger_write(v_accounts, v_ids, v_kinds, v_amounts, v_balances,
                                array_fill(NULL::uuid, ARRAY[cardinality(v_ids)]), NULL, NULL, p_created_by);
    IF v_debt > 0 THEN
      INSERT INTO credit_accounts AS c (account_id, user_id, debt) VALUES (a.account_id, a.user_id, v_debt)
      ON CONFLICT (account_id) DO UPDATE SET debt = c.debt + v_debt, updated_at = now();
    END IF;
    IF v_after < v_balance THEN
      PERFORM credit_balance_alerts(a.account_id, v_balance, v_after,
                COALESCE((SELECT c.low_balance_thresholds FROM credit_accounts c WHERE c.account_id = a.account_id),
                         p_thresholds));
    END IF;
    RETURN QUERY SELECT v_take, v_debt, v_refundable;
  END $function$;
