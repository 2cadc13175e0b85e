CREATE OR REPLACE FUNCTION public.credits_take(p_owner_id character varying, p_amount integer, p_kind character varying, p_mode character varying, p_session_id character varying, p_usage_record_id uuid, p_created_by character varying, p_api_key_id uuid, p_rate_default integer, p_thresholds integer[], p_account_kind character varying DEFAULT 'user'::character varying, p_member_id character varying DEFAULT NULL::character varying)
 RETURNS TABLE(out_status character varying, out_available bigint, out_headroom bigint, out_collected bigint, out_debt bigint, out_balance_after bigint, out_parts jsonb, out_retry_after integer)
 LANGUAGE plpgsql
AS $function$
  -- One take from one account: a debit or a hold, strict (records, holds: all or nothing), up_to (a
  -- settlement's overrun: balance, then overdraft) or collect (a reviewed shortfall: what the balance
  -- lacks is debt whatever the limit). It reads the caps, the balance and the headroom under the
  -- account lock, lets credit_decide() decide (the batch asks it the same per event), walks FIFO with
  -- credit_fifo_walk() and counts the key's spend with credit_key_spend_add(). An organisation's
  -- charge names the member (p_member_id): an active member for a new charge (else 'not_a_member'),
  -- whose spend limit is one more cap, its counter (org_member_spend) read and counted here under the
  -- organisation account's lock.
  DECLARE
    acc credit_accounts%ROWTYPE;
    v_account bigint;
    v_user varchar;
    v_strict boolean := p_mode = 'strict';
    v_status varchar;
    v_available bigint := 0;
    v_headroom bigint := 0;
    v_ids uuid[];
    v_rem integer[];
    v_parts integer[];
    n integer;
    l_alloc uuid[];
    l_kind varchar[] := '{}';
    l_amount integer[] := '{}';
    l_balance bigint[] := '{}';
    v_collected bigint;
    v_new_debt bigint;
    v_key_limit integer;
    v_key_period varchar;
    v_key_start timestamptz;
    v_key_spent bigint := 0;
    v_rate_limit integer;
    v_minute bigint := floor(extract(epoch FROM now()) / 60)::bigint;
    v_window integer[];
    v_used bigint := 0;
    v_member boolean := false;
    v_member_removed boolean;
    v_member_limit bigint;
    v_member_period varchar;
    v_member_spent bigint := 0;
    -- What the caps must leave room for: a hold asks for at least one credit, so a session cannot
    -- start on a key budget or an hourly window that is used up, whatever its estimate.
    v_ask bigint := CASE WHEN p_kind = 'hold' THEN GREATEST(p_amount, 1) ELSE p_amount END;
  BEGIN
    IF p_amount IS NULL OR p_amount < 0 THEN
      RAISE EXCEPTION 'credits_take: amount must be a non-negative integer';
    END IF;
    -- The account named by (p_account_kind, p_owner_id), locked; the engine works on its id.
    SELECT l.out_account_id, l.out_user_id INTO v_account, v_user
      FROM credits_lock_accounts(p_account_kind, ARRAY[p_owner_id]) l;
    IF v_account IS NULL THEN
      -- A service principal named a user who has no account: nothing to take from, nothing written.
      RETURN QUERY SELECT 'no_account'::varchar, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint,
                          '[]'::jsonb, NULL::integer;
      RETURN;
    END IF;
    SELECT * INTO acc FROM credit_accounts c WHERE c.account_id = v_account;
    IF p_member_id IS NOT NULL AND p_account_kind = 'org' THEN
      -- The member's limit and what they spent in its period, read under the organisation's lock (every
      -- charge to the org takes it, so the counter moves one charge at a time). A new charge needs an
      -- active member; what a removed member's open session still owes settles.
      SELECT m.spend_limit, m.spend_limit_period, m.removed_at IS NOT NULL
        INTO v_member_limit, v_member_period, v_member_removed
        FROM org_members m WHERE m.org_id = p_owner_id AND m.user_id = p_member_id;
      v_member := FOUND;
      IF NOT v_member OR (v_strict AND v_member_removed) THEN
        RETURN QUERY SELECT 'not_a_member'::varchar, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint,
                            '[]'::jsonb, NULL::integer;
        RETURN;
      END IF;
      IF v_member_limit IS NOT NULL THEN
        v_member_spent := org_member_spent(p_owner_id, p_member_id, v_member_period, now());
      END IF;
    END IF;

    -- The caps: the calling key's budget, the member's limit, then the account's hourly window (read for every take that
    -- spends now: an up_to overrun is never refused but still counts; a collected shortfall is old
    -- usage and stays out of it).
    IF p_api_key_id IS NOT NULL THEN
      -- A budgeted key's row locked (after the account, as the batch does): a key that charges many
      -- accounts (a service's ingest key) has its budget decided by one take at a time, not by each
      -- under its own account's lock.
      SELECT k.credit_limit, k.limit_period INTO v_key_limit, v_key_period
        FROM api_keys k WHERE k.id = p_api_key_id AND k.credit_limit IS NOT NULL FOR NO KEY UPDATE;
      IF v_key_limit IS NOT NULL THEN
        v_key_start := credit_key_period_start(v_key_period, now());
        v_key_spent := credit_key_spent(p_api_key_id, v_key_period);
      END IF;
    END IF;
    v_rate_limit := COALESCE(acc.max_credits_per_hour, p_rate_default);
    IF v_rate_limit IS NOT NULL AND v_ask > 0 AND p_mode IN ('strict', 'up_to') THEN
      v_window := credit_spend_window(acc.spend_window, acc.spend_minute, v_minute);
      SELECT COALESCE(SUM(x), 0) INTO v_used FROM unnest(v_window) x;
    ELSE
      v_rate_limit := NULL;
    END IF;

    SELECT COALESCE(array_agg(f.out_id ORDER BY f.ord), '{}'), COALESCE(array_agg(f.out_remaining ORDER BY f.ord), '{}'),
           COALESCE(sum(f.out_remaining), 0)::bigint
      INTO v_ids, v_rem, v_available
      FROM credit_allocations_fifo(ARRAY[v_account]) WITH ORDINALITY AS f(out_id, out_account_id, out_remaining, ord);
    IF p_mode = 'collect' THEN
      v_headroom := p_amount; -- a reviewed shortfall: what the balance cannot pay is debt, whatever the limit
    ELSIF p_kind = 'debit' THEN
      v_headroom := credit_headroom(acc.overdraft_limit, acc.debt);
    END IF;

    v_status := credit_decide(v_strict, p_amount, v_ask, ARRAY['key_limit', 'member_limit', 'rate_limited']::varchar[],
                              ARRAY[v_key_spent, v_member_spent, v_used],
                              ARRAY[v_key_limit, v_member_limit, v_rate_limit]::bigint[], v_available, v_headroom);
    IF v_status <> 'ok' THEN
      RETURN QUERY SELECT v_status, v_available, v_headroom, 0::bigint, 0::bigint, v_available, '[]'::jsonb,
                          CASE WHEN v_status = 'rate_limited'
                               THEN credit_spend_retry_after(v_window, v_minute, v_ask, v_rate_limit) END;
      RETURN;
    END IF;

    -- One ledger line per allocation touched, counting down from the balance found; what the balance
    -- lacks within the headroom as one overdraft line (no allocation) at the balance left.
    v_parts := credit_fifo_walk(v_rem, LEAST(p_amount, v_available));
    n := cardinality(v_parts);
    v_collected := 0;
    FOR i IN 1 .. n LOOP
      v_collected := v_collected + v_parts[i];
      l_kind[i] := p_kind;
      l_amount[i] := -v_parts[i];
      l_balance[i] := v_available - v_collected;
    END LOOP;
    l_alloc := v_ids[1:n];
    v_new_debt := LEAST(p_amount - v_collected, v_headroom);
    IF v_new_debt > 0 THEN
      n := n + 1;
      l_alloc[n] := NULL; l_kind[n] := 'overdraft'; l_amount[n] := -v_new_debt; l_balance[n] := v_available - v_collected;
    END IF;
    IF n > 0 THEN
      PERFORM credit_ledger_write(array_fill(v_account, ARRAY[n]), l_alloc, l_kind, l_amount, l_balance,
                                  array_fill(p_usage_record_id, ARRAY[n]), p_session_id, p_api_key_id, p_created_by,
                                  CASE WHEN v_member THEN array_fill(p_member_id, ARRAY[n]) END);
    END IF;

    IF v_new_debt > 0 OR (v_window IS NOT NULL AND v_collected + v_new_debt > 0) THEN
      IF v_window IS NOT NULL THEN
        v_window[(v_minute % 60) + 1] := v_window[(v_minute % 60) + 1] + v_collected + v_new_debt;
      END IF;
      INSERT INTO credit_accounts AS c (account_id, user_id, debt, spend_minute, spend_window)
      VALUES (v_account, v_user, v_new_debt, CASE WHEN v_window IS NULL THEN 0 ELSE v_minute END,
              COALESCE(v_window, array_fill(0, ARRAY[60])))
      ON CONFLICT (account_id) DO UPDATE
        SET debt = c.debt + v_new_debt,
            spend_minute = CASE WHEN v_window IS NULL THEN c.spend_minute ELSE v_minute END,
            spend_window = COALESCE(v_window, c.spend_window),
            updated_at = now();
    END IF;

    IF v_key_limit IS NOT NULL THEN
      PERFORM credit_key_spend_add(v_account, p_api_key_id, v_key_limit, v_key_period, v_key_start, v_key_spent,
                                   v_collected + v_new_debt);
    END IF;

    IF v_member AND v_collected + v_new_debt > 0 THEN
      PERFORM org_member_spend_add(p_owner_id, p_member_id, (now() AT TIME ZONE 'UTC')::date, v_collected + v_new_debt);
      PERFORM org_member_limit_event(p_owner_id, p_member_id, v_member_limit, v_member_period, v_member_spent,
                                     v_collected + v_new_debt);
    END IF;

    IF v_collected > 0 THEN
      PERFORM credit_balance_alerts(v_account, v_available, v_available - v_collected,
                                    COALESCE(acc.low_balance_thresholds, p_thresholds));
    END IF;
    IF acc.recharge_below > v_available - v_collected AND v_collected + v_new_debt > 0 THEN PERFORM auto_recharge_check(v_account, v_available - v_collected); END IF;

    RETURN QUERY SELECT 'ok'::varchar, v_available, v_headroom, v_collected, v_new_debt, v_available - v_collected,
      COALESCE((SELECT jsonb_agg(jsonb_build_object('allocationId', v_ids[t.ord], 'amount', t.amount) ORDER BY t.ord)
                  FROM unnest(v_parts) WITH ORDINALITY AS t(amount, ord)), '[]'::jsonb),
      NULL::integer;
  END $function$;
