CREATE OR REPLACE FUNCTION public.credits_take_back(p_allocation_id uuid, p_credits integer, p_allow_debt boolean, p_debt_before integer,
    p_created_by character varying, p_thresholds integer[], p_api_key_id uuid DEFAULT NULL::uuid, p_chargeback boolean DEFAULT false)
 RETURNS TABLE(out_taken integer, out_debt integer, out_refundable integer)
 LANGUAGE plpgsql
AS $function$
  -- Takes p_credits back from a purchase's allocation (a refund, a chargeback), under the account
  -- lock, in this order:
  -- 1. what the allocation still has (live): its free credits;
  -- 2. then, when p_credits asks for more, its credits held by open sessions at this moment, oldest
  --    hold first: each such hold gives them back (a `release` line of its session) and they leave
  --    with the rest. The hold shrinks (outstanding) and remembers it (taken_back), and the key and
  --    member counters it counted against get them back: the session then settles against what is
  --    left, and what it used beyond that is a shortfall for review (credits_settle()). Otherwise a
  --    settlement would give them back to the lot after the refund, spendable again;
  -- 1 and 2 leave through one `refund` line;
  -- 3. with p_allow_debt, of the rest, what was already spent from it becomes the account's debt
  --    through one `debt` line (no allocation, like `overdraft`; the writer raises the debt), never a
  --    silent loss. "Spent" is what left the allocation other than by expiry, void, refund or freeze
  --    (debits, holds still open or kept, repays, transfers), less the debt earlier take-backs of it
  --    made (p_debt_before): expired credits were never spent, so they are not owed.
  -- Without p_allow_debt (an admin's refund) a take of more than the allocation's free credits writes
  -- nothing (out_taken 0). Answers what left the allocation, the debt made, and what the allocation
  -- had free before (its refundable credits). The refund and debt lines name the API key that acted
  -- (p_api_key_id: a service key reporting the provider's refund); a hold's release keeps its hold's.
  -- Money follows the rule (docs/finance.md): a release brings back the money held for the credits
  -- it gives back, the refund line takes its share of the lot's; its category is charged_back for a
  -- lost dispute (p_chargeback), else refunded.
  DECLARE
    a credit_allocations%ROWTYPE;
    h record;
    v_refundable integer;
    v_take integer;
    v_want integer;
    v_give integer;
    v_held integer := 0;
    v_debt integer := 0;
    v_spent bigint;
    v_balance bigint;
    v_after bigint;
    v_spendable boolean;
    v_org varchar;
    v_accounts bigint[] := '{}';
    v_ids uuid[] := '{}';
    v_kinds varchar[] := '{}';
    v_amounts integer[] := '{}';
    v_balances bigint[] := '{}';
    v_categories varchar[] := '{}';
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
    v_balance := credit_available(a.account_id);
    v_after := v_balance - v_take;
    v_spendable := credit_allocation_live(a.expires_at) AND a.voided_at IS NULL AND NOT a.frozen;
    IF p_allow_debt THEN
      SELECT COALESCE(-sum(l.amount), 0) INTO v_spent FROM credit_ledger l
       WHERE l.allocation_id = a.id AND l.kind NOT IN ('grant', 'expire', 'void', 'refund', 'freeze', 'unfreeze');
    END IF;

    v_want := p_credits - v_take;
    IF v_want > 0 THEN
      v_org := account_org_id(a.account_id);
      -- The open holds of the account hold the account lock's row too: no settlement runs meanwhile.
      FOR h IN
        SELECT c.session_id, c.member_id, c.api_key_id, c.key_period_start, c.created_at,
               (-sum(l.amount))::integer AS on_lot, (-sum(l.value_minor))::bigint AS on_lot_value
          FROM credit_holds c
          JOIN credit_ledger l ON l.session_id = c.session_id AND l.account_id = c.account_id
                              AND l.allocation_id = a.id AND l.kind IN ('hold', 'release')
         WHERE c.account_id = a.account_id AND c.settled_at IS NULL
         GROUP BY c.session_id, c.account_id
        HAVING sum(l.amount) < 0
         ORDER BY c.created_at, c.session_id
      LOOP
        EXIT WHEN v_want = 0;
        v_give := LEAST(v_want, h.on_lot);
        v_want := v_want - v_give;
        v_held := v_held + v_give;
        PERFORM credit_ledger_write(ARRAY[a.account_id], ARRAY[a.id], ARRAY['release']::varchar[], ARRAY[v_give],
                                    ARRAY[CASE WHEN v_spendable THEN v_after + v_held ELSE v_after END],
                                    ARRAY[NULL]::uuid[], h.session_id, h.api_key_id, p_created_by,
                                    ARRAY[h.member_id]::varchar[],
                                    ARRAY[h.on_lot_value - credit_value_share(h.on_lot_value, h.on_lot - v_give, h.on_lot)]);
        UPDATE credit_holds c SET outstanding = c.outstanding - v_give, taken_back = c.taken_back + v_give
         WHERE c.session_id = h.session_id AND c.account_id = a.account_id;
        IF h.api_key_id IS NOT NULL THEN
          PERFORM credit_cap_spend_add('key', ARRAY[h.api_key_id::varchar], ARRAY[NULL::bigint], h.key_period_start,
                                       ARRAY[-v_give]::bigint[]);
        END IF;
        IF v_org IS NOT NULL AND h.member_id IS NOT NULL THEN
          PERFORM credit_cap_spend_add('member', ARRAY[h.member_id], ARRAY[a.account_id], date_trunc('day', h.created_at, 'UTC'),
                                       ARRAY[-v_give]::bigint[]);
        END IF;
      END LOOP;
    END IF;

    IF p_allow_debt AND p_credits > v_take + v_held THEN
      v_debt := LEAST(p_credits - v_take - v_held, GREATEST(v_spent - v_held - COALESCE(p_debt_before, 0), 0))::integer;
    END IF;
    IF v_take + v_held = 0 AND v_debt = 0 THEN
      RETURN QUERY SELECT 0, 0, v_refundable;
      RETURN;
    END IF;
    IF v_take + v_held > 0 THEN
      v_accounts := v_accounts || a.account_id; v_ids := v_ids || a.id; v_kinds := v_kinds || 'refund'::varchar;
      v_amounts := v_amounts || -(v_take + v_held); v_balances := v_balances || v_after;
      v_categories := v_categories || CASE WHEN p_chargeback THEN 'charged_back' ELSE 'refunded' END::varchar;
    END IF;
    IF v_debt > 0 THEN
      v_accounts := v_accounts || a.account_id; v_ids := v_ids || NULL::uuid; v_kinds := v_kinds || 'debt'::varchar;
      v_amounts := v_amounts || -v_debt; v_balances := v_balances || v_after;
      v_categories := v_categories || NULL::varchar;
    END IF;
    PERFORM credit_ledger_write(v_accounts, v_ids, v_kinds, v_amounts, v_balances,
                                array_fill(NULL::uuid, ARRAY[cardinality(v_ids)]), NULL, p_api_key_id, p_created_by, NULL,
                                NULL, v_categories);
    IF v_after < v_balance THEN
      PERFORM credit_balance_alerts(a.account_id, v_balance, v_after, credit_thresholds(a.account_id, p_thresholds));
    END IF;
    RETURN QUERY SELECT v_take + v_held, v_debt, v_refundable;
  END $function$;
