CREATE OR REPLACE FUNCTION public.credits_take_events(p_created_by character varying, p_api_key_id uuid, p_rate_default integer, p_thresholds integer[],
    p_account_ids bigint[], p_amounts integer[], p_usage_records uuid[], p_members character varying[] DEFAULT NULL::character varying[],
    p_takes character varying[] DEFAULT NULL::character varying[], p_modes character varying[] DEFAULT NULL::character varying[],
    p_sessions character varying[] DEFAULT NULL::character varying[], p_corrections uuid[] DEFAULT NULL::uuid[], p_volumes jsonb[] DEFAULT NULL::jsonb[],
    p_scopes jsonb[] DEFAULT NULL::jsonb[], p_created_bys character varying[] DEFAULT NULL::character varying[])
 RETURNS TABLE(out_ord integer, out_status character varying, out_usage_record_id uuid, out_collected bigint, out_debt bigint, out_balance bigint,
    out_retry_after integer, out_available bigint, out_headroom bigint, out_parts jsonb, out_volume_step integer)
 LANGUAGE plpgsql
AS $function$
  -- The one take (docs/money.md "The take"): every debit and hold of credits, a batch of events in
  -- array order, of whichever accounts; a single record, hold, settlement overrun or collected
  -- shortfall is a batch of one. Event i takes p_amounts[i] from account p_account_ids[i]
  -- (accounts.account_id, resolved by the caller; NULL or an unknown id: no_account); it is a
  -- p_takes[i] ('debit', the default, or 'hold') in mode p_modes[i] ('strict', the default: all or
  -- nothing; 'up_to': a settlement's overrun, the balance then the overdraft; 'collect': a reviewed
  -- shortfall, what the balance lacks is debt whatever the limit), for session p_sessions[i] (NULL:
  -- none); its ledger lines point at p_usage_records[i] (NULL: none, a hold's). An organisation's
  -- event names its member in p_members[i]: an active member for a strict take (else 'not_a_member';
  -- what a removed member's open session still owes settles), whose limit is one more cap, read and
  -- counted under the organisation's lock. Each event's outcome is its own row (TigerBeetle's
  -- create_transfers: flags per transfer, a result per event); a refused event moves nothing, the
  -- later ones still apply. Every decision is credit_decide()'s. A usage correction's overrun is a take
  -- 'correction' (a debit whose lines say so, naming the correction p_corrections[i]; NULL: none).
  -- p_volumes[i]: its rule's volume steps (NULL: none); its amount decided here, its step
  -- out_volume_step. Budgets by scope: p_scopes[i]. Event i's writer (its lines' created_by):
  -- p_created_bys[i], else p_created_by.
  -- A list of named steps, each a function with its own test: the accounts locked, the members'
  -- limits, the settings, the key's budget, the budgets and the lots read under the locks; the
  -- decisions in memory; the FIFO over the lots into ledger lines; the writer; the volume tail, the
  -- counters and the events. A lone event that is one line skips from the reads to the writer. A
  -- step with nothing to do is not called; each is called as an expression (PERFORM would start a
  -- statement).
  DECLARE
    n integer := COALESCE(cardinality(p_account_ids), 0);
    e_take varchar[]; e_mode varchar[]; e_member varchar[]; e_session varchar[];
    v_minute bigint := floor(extract(epoch FROM now()) / 60)::bigint;
    ac record; mb record; st record; ky record; bg record; lt record; dc record; fl record; v_done integer;
  BEGIN
    IF n = 0 THEN RETURN; END IF;
    e_member := COALESCE(p_members, array_fill(NULL::varchar, ARRAY[n]));
    e_take := COALESCE(p_takes, array_fill('debit'::varchar, ARRAY[n]));
    e_mode := COALESCE(p_modes, array_fill('strict'::varchar, ARRAY[n]));
    e_session := COALESCE(p_sessions, array_fill(NULL::varchar, ARRAY[n]));
    -- The events' input checked by an expression over the arrays, with no query in it, so PL/pgSQL
    -- evaluates it without starting an executor (an EXISTS over unnest() started one every take).
    IF cardinality(p_amounts) IS DISTINCT FROM n OR cardinality(p_usage_records) IS DISTINCT FROM n
       OR cardinality(e_member) IS DISTINCT FROM n OR cardinality(e_take) IS DISTINCT FROM n
       OR cardinality(e_mode) IS DISTINCT FROM n OR cardinality(e_session) IS DISTINCT FROM n
       OR array_position(p_amounts, NULL) IS NOT NULL OR 0 > ANY (p_amounts)
       OR NOT e_take <@ '{debit,hold,correction}'::varchar[] OR NOT e_mode <@ '{strict,up_to,collect}'::varchar[] THEN
      RAISE EXCEPTION 'credits_take_events: every event needs a non-negative amount, a take (debit, hold or correction) and a mode (%)',
        'strict, up_to or collect';
    END IF;
    ac := credit_take_accounts(p_account_ids, e_member);
    IF cardinality(array_remove(ac.out_org, NULL)) > 0 THEN
      mb := credit_take_members(ac.out_u, e_member, ac.out_acc, ac.out_org);
    END IF;
    st := credit_take_settings(ac.out_acc, p_rate_default, p_thresholds, v_minute);
    IF p_api_key_id IS NOT NULL THEN ky := credit_take_key(p_api_key_id); END IF;
    -- the budgets the events' scopes name (docs/budgets.md), by the events' account ids (an unknown one has none)
    IF p_scopes IS NOT NULL THEN bg := credit_budget_caps(p_account_ids, p_scopes); END IF;
    lt := credit_take_lots(ac.out_acc);
    -- A lone event that is one ledger line (most records, a lone hold) is taken by credit_take_one()
    -- on these reads, without the decisions' and the FIFO's arrays; else, or if it declines, the
    -- steps below. Asked only of a strict debit or hold by no member: a member's would pay its call.
    -- A hold's answer, as the steps give it: no headroom, and the part it keeps of the lot.
    IF n = 1 AND e_take[1] IN ('debit', 'hold') AND e_mode[1] = 'strict' AND e_member[1] IS NULL
       AND credit_take_one(e_take[1], e_mode[1], p_amounts[1], e_member[1], e_session[1], p_volumes[1], p_scopes[1], p_usage_records[1],
                           p_corrections[1], COALESCE(p_created_bys[1], p_created_by), p_api_key_id, ac, st, ky, lt) THEN
      RETURN QUERY SELECT 1, 'ok'::varchar, p_usage_records[1], p_amounts[1]::bigint, 0::bigint, lt.out_available[1] - p_amounts[1], NULL::int,
                          lt.out_available[1],
                          CASE WHEN e_take[1] = 'hold' THEN 0 ELSE credit_headroom(st.out_overdraft[1], st.out_owed[1]) END::bigint,
                          CASE WHEN e_take[1] = 'hold'
                               THEN jsonb_build_array(jsonb_build_object('allocationId', lt.out_id[1], 'amount', p_amounts[1]))
                               ELSE '[]'::jsonb END, NULL::int;
      RETURN;
    END IF;
    dc := credit_take_decide(ac.out_u, p_amounts, e_take, e_mode, e_member, p_volumes, ac, st, lt.out_available, mb, p_api_key_id, ky, bg,
                             v_minute);
    fl := credit_take_fifo(ac.out_u, dc.out_status, dc.out_collected, dc.out_debt, dc.out_before, e_take, p_usage_records, e_member,
                           e_session, p_corrections, p_created_bys, ac.out_acc, lt, dc.out_parts);
    IF cardinality(fl.out_accounts) > 0 THEN v_done := credit_take_write(fl, p_api_key_id, p_created_by); END IF;
    IF p_volumes IS NOT NULL AND cardinality(array_remove(dc.out_charges, NULL)) > 0 THEN
      v_done := credit_take_volume_charges(dc.out_charges, p_usage_records, p_created_bys, p_created_by, p_api_key_id);
    END IF;
    IF 0 < ANY (dc.out_window_added) OR 0 < ANY (dc.out_member_added) OR 0 < ANY (dc.out_budget_added) OR dc.out_key_charged IS NOT NULL THEN
      v_done := credit_take_count(ac.out_acc, dc.out_window_added, v_minute, mb, dc.out_member_added, bg, dc.out_budget_added, p_api_key_id, ky,
                              dc.out_key_charged);
    END IF;
    IF dc.out_alerts OR st.out_recharge THEN v_done := credit_take_notify(ac.out_acc, ac.out_u, dc, p_thresholds, st.out_recharge); END IF;
    -- Over unnest(), whose plan is kept (generate_series(1, n)'s was made afresh at every call), of
    -- every column at once: a step's arrays are flat, and a subscript of a flat array of jsonb or
    -- with nulls walks it from its start.
    RETURN QUERY
      SELECT g.i::int, g.status, g.record, g.collected, g.debt, g.balance, g.retry, g.available, g.headroom, g.parts, g.step
        FROM unnest(dc.out_status, p_usage_records, dc.out_collected, dc.out_debt, dc.out_balance, dc.out_retry, dc.out_available,
                    dc.out_headroom, fl.out_parts, dc.out_step)
             WITH ORDINALITY AS g(status, record, collected, debt, balance, retry, available, headroom, parts, step, i);
  END $function$;
