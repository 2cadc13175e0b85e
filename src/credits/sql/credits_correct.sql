CREATE OR REPLACE FUNCTION public.credits_correct(p_account_id bigint, p_usage_record_id uuid, p_correction_id uuid, p_session_id character varying, p_delta integer, p_open_shortfall integer, p_member_id character varying, p_api_key_id uuid, p_record_at timestamp with time zone, p_created_by character varying, p_expiry_days integer, p_rate_default integer, p_thresholds integer[])
 RETURNS TABLE(out_shortfall bigint, out_returned bigint, out_regranted bigint, out_repaid bigint, out_collected bigint, out_debt bigint)
 LANGUAGE plpgsql
AS $function$
  -- A usage correction's credits (docs/money.md "Corrections"): what usage record p_usage_record_id of
  -- account p_account_id should have cost differs from what it did by p_delta (signed); its lines name
  -- the correction p_correction_id (usage_corrections.id). Under the account's lock, through the one
  -- take and the one writer:
  --   p_delta > 0: taken now as a settlement's overrun is (credits_take_events(), take 'correction',
  --     mode up_to): the balance, soonest-expiring first, then debt within the overdraft; the rest is
  --     a shortfall for review (out_shortfall > 0). Never refused. It counts against the record's key
  --     (the one its take named, else p_api_key_id) and member like any charge.
  --   p_delta < 0: first the record's open shortfall (p_open_shortfall, the usage module's) is lowered
  --     (out_shortfall < 0); the rest goes back to the lots the record was paid from (its debit,
  --     correction and release lines, and the hold of its session p_session_id), the last taken first,
  --     each at most what it gave, with the money that left with it (the money rule over the record's
  --     part of the lot, as a settlement gives a hold back: credits_give_back()). A lot expired or
  --     voided since takes nothing back: its part leaves it again at once (`expire` or `void`, with the
  --     same money, booked `corrected` like the grant it makes) for one new allocation (source `correction`,
  --     expiring p_expiry_days days from now) per currency, valued at that money; so does what the record took as debt (promotional). Credits
  --     back repay the account's debt first, as every new credit does; the key's and the member's
  --     spend counters are lowered by them in the period the record counted (p_record_at).
  DECLARE
    r record;
    t record;
    g record;
    v_left bigint;
    v_give integer;
    v_money bigint;
    v_balance bigint;
    v_debt bigint;
    v_repay integer;
    v_back bigint := 0;
    v_ids uuid[] := '{}';
    v_amounts integer[] := '{}';
    v_balances bigint[] := '{}';
    v_kinds varchar[] := '{}';
    v_values bigint[] := '{}';
    v_categories varchar[] := '{}';
    -- what dead lots could not take, per currency ('' for promotional credits)
    d_currency varchar[] := '{}';
    d_credits bigint[] := '{}';
    d_value bigint[] := '{}';
    k integer;
    v_key uuid;
    v_key_period varchar;
  BEGIN
    IF p_delta IS NULL OR p_open_shortfall IS NULL OR p_open_shortfall < 0 THEN
      RAISE EXCEPTION 'credits_correct: a delta and a non-negative open shortfall are required';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM credits_lock_account_ids(ARRAY[p_account_id])) THEN
      RAISE EXCEPTION 'credits_correct: no account %', p_account_id;
    END IF;
    out_shortfall := 0; out_returned := 0; out_regranted := 0; out_repaid := 0; out_collected := 0; out_debt := 0;
    -- The key whose budget the record counted against (credit_record_keys()).
    SELECT k.out_api_key_id INTO v_key
      FROM credit_record_keys(ARRAY[p_account_id], ARRAY[p_usage_record_id], ARRAY[p_session_id], ARRAY[p_api_key_id]) k;
    IF p_delta > 0 THEN
      SELECT * INTO t FROM credits_take_events(p_created_by, v_key, p_rate_default, p_thresholds, ARRAY[p_account_id],
                                               ARRAY[p_delta], ARRAY[p_usage_record_id], ARRAY[p_member_id],
                                               ARRAY['correction']::varchar[], ARRAY['up_to']::varchar[],
                                               ARRAY[NULL]::varchar[], ARRAY[p_correction_id]);
      IF t.out_status <> 'ok' THEN
        RAISE EXCEPTION 'credits_correct: the take answered %', t.out_status;
      END IF;
      out_collected := t.out_collected; out_debt := t.out_debt;
      out_shortfall := p_delta - t.out_collected - t.out_debt;
    END IF;
    IF p_delta >= 0 THEN
      RETURN NEXT;
      RETURN;
    END IF;

    out_shortfall := -LEAST(-p_delta::bigint, p_open_shortfall);
    v_left := -p_delta + out_shortfall;
    v_balance := credit_available(p_account_id);
    -- The record's part of each lot it was paid from, and that part's money, the last taken first
    -- (credit_record_lots()).
    FOR r IN
      SELECT p.out_allocation_id AS allocation_id, p.out_paid AS paid, p.out_paid_value AS paid_value, p.out_live AS live,
             p.out_voided AS voided, p.out_frozen AS frozen, p.out_currency AS currency
        FROM credit_record_lots(ARRAY[p_account_id], ARRAY[p_usage_record_id], ARRAY[p_session_id]) WITH ORDINALITY AS p
       ORDER BY p.ordinality
    LOOP
      EXIT WHEN v_left = 0;
      v_give := LEAST(v_left, r.paid);
      v_left := v_left - v_give;
      v_back := v_back + v_give;
      -- the money rule over the record's part: what its credits kept do not take goes back with them
      v_money := CASE WHEN r.paid_value IS NOT NULL
                      THEN r.paid_value - credit_value_share(r.paid_value, r.paid - v_give, r.paid) END;
      IF r.live AND NOT r.frozen THEN v_balance := v_balance + v_give; END IF;
      v_ids := v_ids || r.allocation_id; v_amounts := v_amounts || v_give; v_balances := v_balances || v_balance;
      v_kinds := v_kinds || 'correction'::varchar; v_values := v_values || v_money;
      v_categories := v_categories || NULL::varchar;
      IF NOT r.live THEN
        -- A dead lot takes nothing back: the credits leave it again at once (`expire` or `void`, as a
        -- late release to a dead lot does: credits_give_back()) with the same money, for the new
        -- allocation below, whose grant brings them into the liability. So this line undoes the
        -- correction line's money for finance: booked `corrected` too, not as breakage.
        v_ids := v_ids || r.allocation_id; v_amounts := v_amounts || -v_give; v_balances := v_balances || v_balance;
        v_kinds := v_kinds || CASE WHEN r.voided THEN 'void' ELSE 'expire' END::varchar; v_values := v_values || -v_money;
        v_categories := v_categories || 'corrected'::varchar;
        k := array_position(d_currency, COALESCE(r.currency, ''));
        IF k IS NULL THEN
          d_currency := d_currency || COALESCE(r.currency, '')::varchar; d_credits := d_credits || 0::bigint;
          d_value := d_value || 0::bigint; k := cardinality(d_currency);
        END IF;
        d_credits[k] := d_credits[k] + v_give; d_value[k] := d_value[k] + COALESCE(v_money, 0);
      ELSIF r.frozen THEN
        -- credits back to a lot under dispute are frozen with the rest of it (credits_freeze())
        v_ids := v_ids || r.allocation_id; v_amounts := v_amounts || -v_give; v_balances := v_balances || v_balance;
        v_kinds := v_kinds || 'freeze'::varchar; v_values := v_values || NULL::bigint;
        v_categories := v_categories || NULL::varchar;
      END IF;
    END LOOP;
    -- What no lot gave (the record's debt): promotional credits of the new allocation, which repay it.
    IF v_left > 0 THEN
      k := array_position(d_currency, '');
      IF k IS NULL THEN
        d_currency := d_currency || ''::varchar; d_credits := d_credits || 0::bigint; d_value := d_value || 0::bigint;
        k := cardinality(d_currency);
      END IF;
      d_credits[k] := d_credits[k] + v_left;
      v_back := v_back + v_left;
    END IF;
    -- Credits back on live lots repay the account's debt first, the lots in the order they came back.
    SELECT c.debt INTO v_debt FROM credit_accounts c WHERE c.account_id = p_account_id;
    v_debt := COALESCE(v_debt, 0);
    FOR k IN 1 .. cardinality(v_ids) LOOP
      EXIT WHEN v_debt = 0;
      CONTINUE WHEN v_kinds[k] <> 'correction' OR (k < cardinality(v_ids) AND v_ids[k + 1] = v_ids[k]
                                                 AND v_kinds[k + 1] IN ('expire', 'void', 'freeze'));
      v_repay := LEAST(v_debt, v_amounts[k]);
      v_debt := v_debt - v_repay;
      v_balance := v_balance - v_repay;
      out_repaid := out_repaid + v_repay;
      v_ids := v_ids || v_ids[k]; v_amounts := v_amounts || -v_repay; v_balances := v_balances || v_balance;
      v_kinds := v_kinds || 'repay'::varchar; v_values := v_values || NULL::bigint;
      v_categories := v_categories || NULL::varchar;
    END LOOP;
    IF cardinality(v_ids) > 0 THEN
      PERFORM credit_ledger_write(array_fill(p_account_id, ARRAY[cardinality(v_ids)]), v_ids, v_kinds, v_amounts, v_balances,
                                  array_fill(p_usage_record_id, ARRAY[cardinality(v_ids)]), NULL, NULL, p_created_by,
                                  array_fill(p_member_id, ARRAY[cardinality(v_ids)]), v_values, v_categories,
                                  p_correction_id => p_correction_id);
    END IF;
    -- One allocation per currency of what dead lots and the debt could not take (it repays debt first).
    FOR k IN 1 .. cardinality(d_currency) LOOP
      SELECT * INTO g FROM credits_grant(p_account_id, d_credits[k]::int, p_created_by, now() + make_interval(days => p_expiry_days),
                                         'Usage correction of record ' || p_usage_record_id, 'correction', NULL, NULL, NULL, false,
                                         NULL, NULL, CASE WHEN d_currency[k] <> '' THEN d_value[k] END,
                                         NULLIF(d_currency[k], ''), p_usage_record_id, p_correction_id);
      out_regranted := out_regranted + d_credits[k];
      out_repaid := out_repaid + (d_credits[k] - g.remaining_credits);
    END LOOP;
    out_returned := v_back - out_regranted;
    -- The caps' counters: what went back leaves the key's period and the member's day the record counted in.
    IF v_key IS NOT NULL AND v_back > 0 THEN
      SELECT c.period INTO v_key_period FROM credit_caps c
       WHERE c.subject_kind = 'key' AND c.subject_id = v_key::varchar AND c.account_id = 0 AND c.credit_limit IS NOT NULL;
      IF v_key_period IS NOT NULL THEN
        PERFORM credit_cap_spend_add('key', ARRAY[v_key::varchar], ARRAY[NULL::bigint],
                                     credit_key_period_start(v_key_period, p_record_at), ARRAY[-v_back]);
      END IF;
    END IF;
    IF p_member_id IS NOT NULL AND v_back > 0 THEN
      PERFORM credit_cap_spend_add('member', ARRAY[p_member_id], ARRAY[p_account_id], date_trunc('day', p_record_at, 'UTC'),
                                   ARRAY[-v_back]);
    END IF;
    RETURN NEXT;
  END $function$;
