CREATE OR REPLACE FUNCTION public.credits_take(p_account_id character varying, p_amount integer, p_kind character varying, p_mode character varying, p_session_id character varying, p_usage_record_id uuid, p_created_by character varying, p_api_key_id uuid, p_rate_default integer, p_thresholds integer[])
 RETURNS TABLE(out_status character varying, out_available bigint, out_headroom bigint, out_collected bigint, out_debt bigint, out_balance_after bigint, out_parts jsonb, out_retry_after integer)
 LANGUAGE plpgsql
AS $function$
  DECLARE
    r record;
    acc credit_accounts%ROWTYPE;
    v_strict boolean := p_mode = 'strict';
    v_available bigint := 0;
    v_headroom bigint := 0;
    v_left bigint;
    v_balance bigint;
    v_new_debt bigint := 0;
    v_charged bigint;
    v_part integer;
    v_ids uuid[] := '{}';
    v_rem integer[] := '{}';
    v_take_ids uuid[] := '{}';
    v_take_amounts integer[] := '{}';
    v_take_balances bigint[] := '{}';
    v_key_limit integer;
    v_key_period varchar;
    v_key_start timestamptz;
    v_key_spent bigint := 0;
    v_rate_limit integer;
    v_minute bigint := floor(extract(epoch FROM now()) / 60)::bigint;
    v_window integer[];
    v_used bigint := 0;
    -- What the limits must leave room for: a hold asks for at least one credit, so a session cannot
    -- start on a key budget or an hourly window that is used up, whatever its estimate.
    v_ask bigint := CASE WHEN p_kind = 'hold' THEN GREATEST(p_amount, 1) ELSE p_amount END;
  BEGIN
    IF p_amount IS NULL OR p_amount < 0 THEN
      RAISE EXCEPTION 'credits_take: amount must be a non-negative integer';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM credits_lock_accounts(ARRAY[p_account_id])) THEN
      -- A service principal named a user who has no account: nothing to take from, nothing written.
      RETURN QUERY SELECT 'no_account'::varchar, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint,
                          '[]'::jsonb, NULL::integer;
      RETURN;
    END IF;
    SELECT * INTO acc FROM credit_accounts c WHERE c.user_id = p_account_id;

    IF p_api_key_id IS NOT NULL THEN
      SELECT k.credit_limit, k.limit_period INTO v_key_limit, v_key_period FROM api_keys k WHERE k.id = p_api_key_id;
      IF v_key_limit IS NOT NULL THEN
        v_key_start := credit_key_period_start(v_key_period, now());
        v_key_spent := credit_key_spent(p_api_key_id, v_key_period);
        IF v_strict AND v_ask > 0 AND v_key_spent + v_ask > v_key_limit THEN
          RETURN QUERY SELECT 'key_limit'::varchar, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint,
                              '[]'::jsonb, NULL::integer;
          RETURN;
        END IF;
      END IF;
    END IF;

    v_rate_limit := COALESCE(acc.max_credits_per_hour, p_rate_default);
    -- The window is read for every take that spends now: a strict one is refused when it does not
    -- fit, an up_to one (a settlement's overrun, owed) is never refused but still counts below. A
    -- collected review shortfall is old usage and stays out of it.
    IF v_rate_limit IS NOT NULL AND v_ask > 0 AND p_mode IN ('strict', 'up_to') THEN
      v_window := credit_spend_window(acc.spend_window, acc.spend_minute, v_minute);
      SELECT COALESCE(SUM(x), 0) INTO v_used FROM unnest(v_window) x;
      IF v_strict AND v_used + v_ask > v_rate_limit THEN
        RETURN QUERY SELECT 'rate_limited'::varchar, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint,
                            '[]'::jsonb, credit_spend_retry_after(v_window, v_minute, v_ask, v_rate_limit);
        RETURN;
      END IF;
    END IF;

    FOR r IN SELECT f.out_id, f.out_remaining FROM credit_allocations_fifo(ARRAY[p_account_id]) f LOOP
      v_ids := v_ids || r.out_id;
      v_rem := v_rem || r.out_remaining;
      v_available := v_available + r.out_remaining;
    END LOOP;
    IF p_mode = 'collect' THEN
      v_headroom := p_amount; -- a reviewed shortfall: what the balance cannot pay is debt, whatever the limit
    ELSIF p_kind = 'debit' THEN
      v_headroom := GREATEST(COALESCE(acc.overdraft_limit, 0) - COALESCE(acc.debt, 0), 0);
    END IF;
    IF v_strict AND v_available + v_headroom < p_amount THEN
      RETURN QUERY SELECT 'insufficient'::varchar, v_available, v_headroom, 0::bigint, 0::bigint, v_available,
                          '[]'::jsonb, NULL::integer;
      RETURN;
    END IF;

    v_left := LEAST(p_amount, v_available);
    v_balance := v_available;
    FOR i IN 1 .. coalesce(array_length(v_ids, 1), 0) LOOP
      EXIT WHEN v_left = 0;
      v_part := LEAST(v_left, v_rem[i]);
      v_left := v_left - v_part;
      v_balance := v_balance - v_part;
      v_take_ids := v_take_ids || v_ids[i];
      v_take_amounts := v_take_amounts || v_part;
      v_take_balances := v_take_balances || v_balance;
    END LOOP;
    IF array_length(v_take_ids, 1) > 0 THEN
      WITH v AS (
        SELECT * FROM unnest(v_take_ids, v_take_amounts, v_take_balances) WITH ORDINALITY AS t(allocation_id, amount, balance_after, ord)),
      upd AS (
        UPDATE credit_allocations c SET remaining_credits = c.remaining_credits - v.amount
          FROM v WHERE c.id = v.allocation_id)
      INSERT INTO credit_ledger (user_id, allocation_id, kind, amount, balance_after, session_id, usage_record_id, created_by)
      SELECT p_account_id, v.allocation_id, p_kind, -v.amount, v.balance_after, p_session_id, p_usage_record_id, p_created_by
        FROM v ORDER BY v.ord;
    END IF;

    v_new_debt := LEAST(p_amount - (v_available - v_balance), v_headroom);
    IF v_new_debt > 0 THEN
      INSERT INTO credit_ledger (user_id, allocation_id, kind, amount, balance_after, session_id, usage_record_id, created_by)
      VALUES (p_account_id, NULL, 'overdraft', -v_new_debt, v_balance, p_session_id, p_usage_record_id, p_created_by);
    END IF;

    v_charged := (v_available - v_balance) + v_new_debt;
    IF v_new_debt > 0 OR (v_window IS NOT NULL AND v_charged > 0) THEN
      IF v_window IS NOT NULL THEN
        v_window[(v_minute % 60) + 1] := v_window[(v_minute % 60) + 1] + v_charged;
      END IF;
      INSERT INTO credit_accounts AS c (user_id, debt, spend_minute, spend_window)
      VALUES (p_account_id, v_new_debt, CASE WHEN v_window IS NULL THEN 0 ELSE v_minute END,
              COALESCE(v_window, array_fill(0, ARRAY[60])))
      ON CONFLICT (user_id) DO UPDATE
        SET debt = c.debt + v_new_debt,
            spend_minute = CASE WHEN v_window IS NULL THEN c.spend_minute ELSE v_minute END,
            spend_window = COALESCE(v_window, c.spend_window),
            updated_at = now();
    END IF;

    IF v_key_limit IS NOT NULL THEN
      INSERT INTO credit_key_spend AS s (api_key_id, period_start, spent) VALUES (p_api_key_id, v_key_start, v_charged)
      ON CONFLICT (api_key_id) DO UPDATE
        SET spent = CASE WHEN s.period_start = EXCLUDED.period_start THEN s.spent + EXCLUDED.spent ELSE EXCLUDED.spent END,
            period_start = EXCLUDED.period_start;
      IF v_key_spent < v_key_limit AND v_key_spent + v_charged >= v_key_limit THEN
        PERFORM emit_event('api_key.limit_reached', p_account_id, jsonb_build_object(
          'userId', p_account_id, 'apiKeyId', p_api_key_id, 'creditLimit', v_key_limit, 'limitPeriod', v_key_period));
      END IF;
    END IF;

    IF v_balance < v_available THEN
      PERFORM credit_balance_alerts(p_account_id, v_available, v_balance, COALESCE(acc.low_balance_thresholds, p_thresholds));
    END IF;

    RETURN QUERY SELECT 'ok'::varchar, v_available, v_headroom, v_available - v_balance, v_new_debt, v_balance,
      COALESCE((SELECT jsonb_agg(jsonb_build_object('allocationId', t.allocation_id, 'amount', t.amount) ORDER BY t.ord)
                  FROM unnest(v_take_ids, v_take_amounts) WITH ORDINALITY AS t(allocation_id, amount, ord)), '[]'::jsonb),
      NULL::integer;
  END $function$;
