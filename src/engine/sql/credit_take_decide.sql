CREATE OR REPLACE FUNCTION public.credit_take_decide(p_event_accounts integer[], p_amounts integer[], p_takes character varying[], p_modes character varying[],
    p_members character varying[], p_volumes jsonb[], p_accounts record, p_settings record, p_available bigint[], p_pairs record, p_api_key_id uuid,
    p_key record, p_budgets record, p_minute bigint, OUT out_status character varying[], OUT out_collected bigint[], OUT out_debt bigint[],
    OUT out_before bigint[], OUT out_balance bigint[], OUT out_retry integer[], OUT out_available bigint[], OUT out_headroom bigint[], OUT out_parts jsonb[],
    OUT out_step integer[], OUT out_charges jsonb[], OUT out_account_available bigint[], OUT out_window_added bigint[], OUT out_member_added bigint[],
    OUT out_key_charged bigint, OUT out_budget_added bigint[], OUT out_alerts boolean)
 RETURNS record
 LANGUAGE plpgsql
AS $function$
  -- The take's decisions (credits_take_events()), event by event in array order, in memory, each by
  -- credit_decide() on what the events before left (balance, headroom, the key's, the member's, the
  -- budgets' and the hourly window's counters). Event i is of account p_event_accounts[i] of
  -- credit_take_accounts() (p_accounts), of member pair p_pairs.out_m[i] (credit_take_members()), on
  -- the settings of credit_take_settings(), the balances p_available, the key's budget p_key
  -- (credit_take_key()) and the budgets p_budgets (credit_budget_caps()); a null record: none.
  -- Answers each event's outcome, the volume charge to keep, and what the take added to each counter
  -- (out_key_charged null: no key budget); caps' limit events and budget.reached are sent here, in order.
  DECLARE
    n integer := cardinality(p_event_accounts);
    u_acc bigint[] := p_accounts.out_acc; u_known boolean[] := p_accounts.out_known;
    u_limit integer[] := p_settings.out_limit; u_overdraft integer[] := p_settings.out_overdraft;
    u_owed bigint[] := p_settings.out_owed; u_used bigint[] := p_settings.out_used;
    m_e integer[]; m_found boolean[]; m_removed boolean[]; m_limit bigint[]; m_period varchar[]; m_spent bigint[];
    v_key_limit integer; v_key_spent bigint := 0; v_budgets boolean := NOT (p_budgets IS NULL);
    bc_codes varchar[] := '{}'; bc_used bigint[] := '{}'; bc_limits bigint[] := '{}'; b_from integer[]; b_to integer[];
    i integer; u integer; mi integer; vv record;
    v_amount integer; v_ask bigint; v_strict boolean; v_windowed boolean; v_headroom bigint; v_status varchar;
    v_bal bigint; v_od bigint; v_spent bigint; v_room bigint;
  BEGIN
    out_account_available := p_available; out_window_added := array_fill(0::bigint, ARRAY[cardinality(u_acc)]);
    IF NOT (p_pairs IS NULL) THEN IF p_pairs.out_u IS NOT NULL THEN
      m_e := p_pairs.out_m; m_found := p_pairs.out_found; m_removed := p_pairs.out_removed;
      m_limit := p_pairs.out_limit; m_period := p_pairs.out_period; m_spent := p_pairs.out_spent;
      out_member_added := array_fill(0::bigint, ARRAY[cardinality(p_pairs.out_u)]);
    END IF; END IF;
    IF NOT (p_key IS NULL) THEN v_key_limit := p_key.out_limit; v_key_spent := p_key.out_spent; END IF;
    IF v_budgets THEN out_budget_added := p_budgets.out_added; b_from := p_budgets.out_from; b_to := p_budgets.out_to; END IF;
    IF v_budgets THEN bc_codes := '{budget:}'; bc_used := '{0}'; END IF;
    out_status := array_fill(NULL::varchar, ARRAY[n]); out_step := array_fill(NULL::integer, ARRAY[n]); out_charges := array_fill(NULL::jsonb, ARRAY[n]);
    out_collected := array_fill(0::bigint, ARRAY[n]); out_debt := out_collected; out_balance := out_collected;
    out_before := out_collected; out_available := out_collected; out_headroom := out_collected;
    out_retry := array_fill(NULL::integer, ARRAY[n]); out_parts := array_fill('[]'::jsonb, ARRAY[n]); out_alerts := false;
    FOR i IN 1 .. n LOOP
      u := p_event_accounts[i];
      IF NOT u_known[u] THEN out_status[i] := 'no_account'; CONTINUE; END IF;
      v_strict := p_modes[i] = 'strict';
      mi := m_e[i];
      IF mi IS NOT NULL AND (NOT m_found[mi] OR (v_strict AND m_removed[mi])) THEN out_status[i] := 'not_a_member'; CONTINUE; END IF;
      v_amount := p_amounts[i];
      IF p_volumes[i] IS NOT NULL THEN -- the amount decided under the lock, against the period's total
        vv := credit_take_volume(u_acc[u], p_volumes[i], out_charges); v_amount := vv.out_amount;
      END IF;
      -- What the caps must leave room for: a hold asks for at least one credit, so a session cannot
      -- start on a key budget or an hourly window that is used up, whatever its estimate.
      v_ask := CASE WHEN p_takes[i] = 'hold' THEN GREATEST(v_amount, 1) ELSE v_amount END;
      -- The hourly window counts what spends now: an up_to overrun is never refused but still counts;
      -- a collected shortfall is old usage and stays out of it.
      v_windowed := u_limit[u] IS NOT NULL AND v_ask > 0 AND p_modes[i] <> 'collect';
      -- A reviewed shortfall is debt whatever the limit; a hold never overdraws.
      v_headroom := CASE WHEN p_modes[i] = 'collect' THEN v_amount
                         WHEN p_takes[i] <> 'hold' THEN credit_headroom(u_overdraft[u], u_owed[u]) ELSE 0 END;
      -- then its budgets, as one cap 'budget:' of their least room (none: no limit)
      IF v_budgets THEN
        v_room := credit_take_budget_room(p_budgets, b_from[i], b_to[i], out_budget_added); bc_limits := ARRAY[v_room];
      END IF;
      -- The one decision: the key's budget, the member's limit (what they spent in its period, this
      -- take's events before included), then the hourly window (the stored buckets for the last hour
      -- plus what this take has spent this minute), then the budgets, the balance and the headroom.
      v_status := credit_decide(v_strict, v_amount, v_ask, ARRAY['key_limit', 'member_limit', 'rate_limited']::varchar[] || bc_codes,
                                ARRAY[v_key_spent, COALESCE(m_spent[mi], 0), u_used[u]] || bc_used,
                                ARRAY[v_key_limit, m_limit[mi], CASE WHEN v_windowed THEN u_limit[u] END]::bigint[] || bc_limits,
                                out_account_available[u], v_headroom);
      out_available[i] := out_account_available[u]; out_headroom[i] := v_headroom;
      IF v_status LIKE 'budget:%' THEN
        out_status[i] := 'budget_exceeded';
        out_parts[i] := credit_take_budget_refused(p_budgets, b_from[i], b_to[i], out_budget_added, v_ask);
        CONTINUE;
      ELSIF v_status <> 'ok' THEN
        out_status[i] := v_status;
        IF v_status = 'rate_limited' THEN
          out_retry[i] := credit_take_retry_after(u_acc[u], p_minute, out_window_added[u], v_ask, u_limit[u]);
        ELSIF v_status = 'insufficient' THEN
          out_balance[i] := out_account_available[u] + v_headroom;
        END IF;
        CONTINUE;
      END IF;
      -- Let through: the lots give what they hold (credit_take_fifo() walks them), the headroom the rest.
      out_before[i] := out_account_available[u];
      v_bal := out_account_available[u] - LEAST(v_amount, out_account_available[u]);
      v_od := GREATEST(LEAST(v_amount - (out_account_available[u] - v_bal), v_headroom), 0);
      u_owed[u] := u_owed[u] + v_od;
      v_spent := out_account_available[u] - v_bal + v_od;
      -- a movement that lowered the balance may alert (credit_alert_due(); credit_balance_alerts() decides)
      out_alerts := out_alerts OR credit_alert_due(out_account_available[u], v_bal, p_settings.out_top_threshold);
      out_status[i] := 'ok'; out_collected[i] := v_spent - v_od; out_debt[i] := v_od; out_balance[i] := v_bal;
      out_account_available[u] := v_bal;
      IF p_volumes[i] IS NOT NULL THEN out_step[i] := vv.out_step; out_charges[i] := vv.out_charge; END IF;
      IF v_windowed AND v_spent > 0 THEN out_window_added[u] := out_window_added[u] + v_spent; u_used[u] := u_used[u] + v_spent; END IF;
      -- Only a charge that takes a cap's spend to its limit can send the cap's event
      -- (credit_cap_limit_event() decides whether it does): the others make no call.
      IF v_key_limit IS NOT NULL THEN
        IF v_spent > 0 AND v_key_spent + v_spent >= v_key_limit THEN
          PERFORM credit_cap_limit_event('key', p_api_key_id::varchar, u_acc[u], v_key_limit, p_key.out_period, v_key_spent, v_spent);
        END IF;
        v_key_spent := v_key_spent + v_spent; out_key_charged := COALESCE(out_key_charged, 0) + v_spent;
      END IF;
      IF b_from[i] IS NOT NULL AND v_spent > 0 THEN
        out_budget_added := credit_take_budget_count(p_budgets, b_from[i], b_to[i], out_budget_added, v_spent, v_room);
      END IF;
      IF mi IS NOT NULL AND v_spent > 0 THEN
        IF m_spent[mi] + v_spent >= m_limit[mi] THEN
          PERFORM credit_cap_limit_event('member', p_members[i], u_acc[u], m_limit[mi], m_period[mi], m_spent[mi], v_spent);
        END IF;
        m_spent[mi] := m_spent[mi] + v_spent; out_member_added[mi] := out_member_added[mi] + v_spent;
      END IF;
    END LOOP;
  END $function$;
