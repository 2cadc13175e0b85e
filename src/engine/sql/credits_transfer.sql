CREATE OR REPLACE FUNCTION public.credits_transfer(p_from_account_id bigint, p_to_account_id bigint, p_credits integer, p_reason text,
    p_created_by character varying, p_thresholds integer[])
 RETURNS TABLE(out_status character varying, out_available bigint, out_transfer_id uuid)
 LANGUAGE plpgsql
AS $function$
  -- A transfer (docs/money.md "Transfers"): p_credits leave the allocations of the source account
  -- (p_from_account_id) for the destination (p_to_account_id), soonest-expiring first, and each part arrives on the destination as a new allocation (source
  -- 'transfer') with the expiry of the one it left: a transfer_out line on the allocation it left and
  -- the transfer_in line that fills the new one (as a grant line fills a granted one), written by
  -- credit_ledger_write() under both accounts' locks, taken in account id order. What may move is
  -- what a take may spend from the allocations (credit_allocations_fifo(): live, credits left), so
  -- held credits and the overdraft never move. Each new allocation first repays the destination's
  -- debt, as a grant does, and tells credits.granted, as every new allocation does, whether the
  -- destination is a user or an organisation; the source's balance alerts are a take's, the
  -- destination's re-arm a grant's. Answers ok with the transfer's id, or insufficient
  -- (out_available: what could move), no_source, no_destination or same_account with nothing
  -- written.
  DECLARE
    v_from bigint;
    v_to bigint;
    v_locked bigint[];
    v_ids uuid[];
    v_rem integer[];
    v_expiries timestamptz[];
    v_values bigint[];
    v_currencies varchar[];
    v_available bigint;
    v_parts integer[];
    n integer;
    v_from_before bigint;
    v_from_after bigint;
    v_to_after bigint;
    v_debt integer;
    v_repay integer;
    v_repaid integer := 0;
    v_transfer uuid;
    v_new uuid[] := '{}';
    v_id uuid;
    l_account bigint[] := '{}';
    l_alloc uuid[] := '{}';
    l_kind varchar[] := '{}';
    l_amount integer[] := '{}';
    l_balance bigint[] := '{}';
    k integer := 0;
  BEGIN
    IF p_credits IS NULL OR p_credits < 1 THEN
      RAISE EXCEPTION 'credits_transfer: credits must be a positive integer';
    END IF;
    -- Both accounts locked first, in account id order (credits_lock_account_ids()); an id that names
    -- no account (or NULL) is a missing source or destination.
    SELECT COALESCE(array_agg(l.id), '{}') INTO v_locked
      FROM credits_lock_account_ids(ARRAY[p_from_account_id, p_to_account_id]) l(id);
    v_from := CASE WHEN p_from_account_id = ANY (v_locked) THEN p_from_account_id END;
    v_to := CASE WHEN p_to_account_id = ANY (v_locked) THEN p_to_account_id END;
    IF v_from IS NULL THEN
      RETURN QUERY SELECT 'no_source'::varchar, 0::bigint, NULL::uuid;
      RETURN;
    ELSIF v_to IS NULL THEN
      RETURN QUERY SELECT 'no_destination'::varchar, 0::bigint, NULL::uuid;
      RETURN;
    ELSIF v_from = v_to THEN
      RETURN QUERY SELECT 'same_account'::varchar, 0::bigint, NULL::uuid;
      RETURN;
    END IF;
    SELECT COALESCE(array_agg(f.out_id ORDER BY f.ord), '{}'), COALESCE(array_agg(f.out_remaining ORDER BY f.ord), '{}'),
           COALESCE(array_agg(a.expires_at ORDER BY f.ord), '{}'), COALESCE(sum(f.out_remaining), 0)::bigint,
           array_agg(a.value_remaining_minor ORDER BY f.ord), array_agg(a.currency ORDER BY f.ord)
      INTO v_ids, v_rem, v_expiries, v_available, v_values, v_currencies
      FROM credit_allocations_fifo(ARRAY[v_from]) WITH ORDINALITY AS f(out_id, out_account_id, out_remaining, ord)
      JOIN credit_allocations a ON a.id = f.out_id;
    IF v_available < p_credits THEN
      RETURN QUERY SELECT 'insufficient'::varchar, v_available, NULL::uuid;
      RETURN;
    END IF;

    v_parts := credit_fifo_walk(v_rem, p_credits);
    n := cardinality(v_parts);
    -- The source's balance as a take counts it (what its FIFO may spend), the destination's as a grant.
    v_from_before := v_available;
    v_from_after := v_from_before;
    v_to_after := credit_available(v_to);
    SELECT c.debt INTO v_debt FROM credit_accounts c WHERE c.account_id = v_to;
    v_debt := COALESCE(v_debt, 0);
    FOR i IN 1 .. n LOOP
      -- Inserted empty: its transfer_in line puts the credits in (credit_ledger_write() applies every
      -- line). Clock time, so the lots are spent in the order they arrived when expiries tie. Valued
      -- at the money that leaves its source with its credits (credit_value_share(), as the
      -- transfer_out line takes it), in the source's currency.
      INSERT INTO credit_allocations (account_id, total_credits, remaining_credits, allocated_by, expires_at,
                                      notes, source, allocated_at, value_minor, value_remaining_minor, currency)
      VALUES (v_to, v_parts[i], 0, p_created_by, v_expiries[i], p_reason, 'transfer', clock_timestamp(),
              credit_value_share(v_values[i], v_parts[i], v_rem[i]), CASE WHEN v_values[i] IS NOT NULL THEN 0 END,
              v_currencies[i])
      RETURNING id INTO v_id;
      v_new[i] := v_id;
      v_from_after := v_from_after - v_parts[i];
      v_to_after := v_to_after + v_parts[i];
      k := k + 1;
      l_account[k] := v_from; l_alloc[k] := v_ids[i]; l_kind[k] := 'transfer_out';
      l_amount[k] := -v_parts[i]; l_balance[k] := v_from_after;
      k := k + 1;
      l_account[k] := v_to; l_alloc[k] := v_new[i]; l_kind[k] := 'transfer_in';
      l_amount[k] := v_parts[i]; l_balance[k] := v_to_after;
      v_repay := LEAST(v_debt - v_repaid, v_parts[i]);
      IF v_repay > 0 THEN
        v_repaid := v_repaid + v_repay;
        v_to_after := v_to_after - v_repay;
        k := k + 1;
        l_account[k] := v_to; l_alloc[k] := v_new[i]; l_kind[k] := 'repay';
        l_amount[k] := -v_repay; l_balance[k] := v_to_after;
      END IF;
    END LOOP;
    PERFORM credit_ledger_write(l_account, l_alloc, l_kind, l_amount, l_balance, array_fill(NULL::uuid, ARRAY[k]),
                                NULL, NULL, p_created_by);

    INSERT INTO credit_transfers (from_account_id, to_account_id, credits, reason, created_by, created_at)
    VALUES (v_from, v_to, p_credits, p_reason, p_created_by, clock_timestamp())
    RETURNING id INTO v_transfer;
    INSERT INTO credit_transfer_lots (transfer_id, lot, from_allocation_id, to_allocation_id, credits, expires_at)
    SELECT v_transfer, t.ord, v_ids[t.ord], v_new[t.ord], t.part, v_expiries[t.ord]
      FROM unnest(v_parts) WITH ORDINALITY AS t(part, ord);
    PERFORM credit_granted_events(v_new);

    PERFORM credit_balance_alerts(v_from, v_from_before, v_from_after, credit_thresholds(v_from, p_thresholds));
    PERFORM credit_balance_alerts_rearm(v_to, v_to_after);
    RETURN QUERY SELECT 'ok'::varchar, v_available, v_transfer;
  END $function$;
