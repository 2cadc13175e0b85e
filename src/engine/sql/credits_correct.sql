CREATE OR REPLACE FUNCTION public.credits_correct(p_account_ids bigint[], p_usage_records uuid[], p_correction_ids uuid[], p_sessions character varying[],
    p_deltas integer[], p_open_shortfalls integer[], p_members character varying[], p_api_key_ids uuid[], p_record_ats timestamp with time zone[],
    p_created_by character varying, p_expiry_days integer, p_rate_default integer, p_thresholds integer[])
 RETURNS TABLE(out_ord integer, out_shortfall bigint, out_returned bigint, out_regranted bigint, out_repaid bigint, out_collected bigint, out_debt bigint)
 LANGUAGE plpgsql
AS $function$
  -- Usage corrections' credits (docs/money.md "Corrections"), one or many alike (a single correction
  -- is a batch of one, a re-rate's chunk many): correction i says what usage record p_usage_records[i]
  -- of account p_account_ids[i] should have cost differs from what it did by p_deltas[i] (signed); its
  -- lines name the correction p_correction_ids[i] (usage_corrections.id). With the record's session
  -- p_sessions[i] (its hold is part of what the record was paid from), its open shortfall before the
  -- correction p_open_shortfalls[i] (the usage module's), its member p_members[i], its key
  -- p_api_key_ids[i] and the time its caps counted it p_record_ats[i]. One row per correction
  -- (out_ord: its position). Under the accounts' locks, through the one take and the one writer:
  --   1. Every account locked first, once, in account id order (credits_lock_account_ids()).
  --   2. What the corrections add (p_deltas[i] > 0) is taken now as a settlement's overrun is: ONE take
  --      (credits_take_events(), take 'correction', mode up_to, an event per correction whose lines
  --      name it) per key the records counted against (credit_record_keys(); most calls have one or
  --      none), so each account's lots are read and walked once, in array order: the balance,
  --      soonest-expiring first, then debt within the overdraft; the rest is a shortfall for review.
  --      Never refused. It counts against the record's key and member like any charge.
  --   3. What the corrections give back (p_deltas[i] < 0): first the record's open shortfall is
  --      lowered; the rest goes back to the lots the record was paid from (credit_record_lots(), read
  --      for all of them at once: its debit, correction and release lines, and its session's hold),
  --      the last taken first, each at most what it gave, with the money that left with it (the money
  --      rule over the record's part of the lot). The records whose parts all go to live lots not under
  --      dispute, of an account without debt, at once: one writer call. The others one after the
  --      other: a lot expired or voided since takes nothing back, its part leaves it again at once
  --      (`expire` or `void`, with the same money, booked `corrected` like the grant it makes) for one
  --      new allocation (source `correction`, expiring p_expiry_days days from now) per currency,
  --      valued at that money; so does what the record took as debt (promotional); credits back repay
  --      the account's debt first, as every new credit does. The key's and the member's spend
  --      counters are lowered by what went back, in the period the record counted.
  DECLARE
    n integer := COALESCE(cardinality(p_account_ids), 0);
    g record;
    t record;
    r record;
    v_accounts bigint[];
    v_up integer[];
    v_keys uuid[];
    a_acc bigint[]; a_amount integer[]; a_record uuid[]; a_member varchar[]; a_correction uuid[];
    -- the give-backs: positions; per account (v_accounts' order) its balance and debt; the records'
    -- lots (o_: the record's position in v_down, the lot, its part's credits and money, live and not
    -- frozen); the lines written at once; the records given back at once (b_) and the others (f_)
    v_down integer[]; u_bal bigint[]; u_debt bigint[];
    o_ord integer[]; o_alloc uuid[]; o_paid bigint[]; o_value bigint[]; o_plain boolean[];
    l_n integer := 0; l_acc bigint[] := '{}'; l_alloc uuid[] := '{}'; l_amount integer[] := '{}'; l_balance bigint[] := '{}';
    l_record uuid[] := '{}'; l_member varchar[] := '{}'; l_correction uuid[] := '{}'; l_value bigint[] := '{}';
    b_ord integer[] := '{}'; b_back bigint[] := '{}'; b_short bigint[] := '{}'; f_ord integer[] := '{}';
    c_ord integer[]; c_back bigint[];
    i integer; j integer; k integer; u integer; v_first integer;
    v_short bigint; v_left bigint; v_back bigint; v_bal bigint; v_give integer; v_plain boolean; q integer;
    -- one record given back on its own: its lines, and what dead lots and its debt could not take per
    -- currency ('' for promotional credits), for new allocations
    v_money bigint; v_balance bigint; v_debt bigint; v_repay integer; v_key uuid; v_key_period varchar;
    v_ids uuid[]; v_amounts integer[]; v_balances bigint[]; v_kinds varchar[]; v_values bigint[]; v_categories varchar[];
    d_currency varchar[]; d_credits bigint[]; d_value bigint[];
  BEGIN
    IF cardinality(p_usage_records) IS DISTINCT FROM n OR cardinality(p_correction_ids) IS DISTINCT FROM n
       OR cardinality(p_sessions) IS DISTINCT FROM n OR cardinality(p_deltas) IS DISTINCT FROM n
       OR cardinality(p_open_shortfalls) IS DISTINCT FROM n OR cardinality(p_members) IS DISTINCT FROM n
       OR cardinality(p_api_key_ids) IS DISTINCT FROM n OR cardinality(p_record_ats) IS DISTINCT FROM n
       OR EXISTS (SELECT 1 FROM unnest(p_deltas, p_open_shortfalls) AS x(delta, open_shortfall)
                   WHERE x.delta IS NULL OR x.open_shortfall IS NULL OR x.open_shortfall < 0) THEN
      RAISE EXCEPTION 'credits_correct: one account, record, correction, session, delta, non-negative open shortfall, member, key and time per correction';
    END IF;
    IF n = 0 THEN RETURN; END IF;
    -- 1. The accounts, each once, locked in account id order.
    SELECT array_agg(DISTINCT a ORDER BY a) INTO v_accounts FROM unnest(p_account_ids) a;
    IF (SELECT count(*) FROM credits_lock_account_ids(v_accounts)) <> cardinality(v_accounts)
       OR array_position(p_account_ids, NULL) IS NOT NULL THEN
      RAISE EXCEPTION 'credits_correct: no account %',
        (SELECT a FROM unnest(p_account_ids) a WHERE NOT EXISTS (SELECT 1 FROM accounts x WHERE x.account_id = a) LIMIT 1);
    END IF;
    -- 2. The additions, each with the key it counted against, one take per key.
    SELECT array_agg(e.ord::int ORDER BY e.ord) INTO v_up FROM unnest(p_deltas) WITH ORDINALITY AS e(delta, ord) WHERE e.delta > 0;
    IF v_up IS NOT NULL THEN
      SELECT array_agg(rk.out_api_key_id ORDER BY rk.out_ord) INTO v_keys
        FROM credit_record_keys(ARRAY(SELECT p_account_ids[w.i] FROM unnest(v_up) WITH ORDINALITY AS w(i, o) ORDER BY w.o),
                                ARRAY(SELECT p_usage_records[w.i] FROM unnest(v_up) WITH ORDINALITY AS w(i, o) ORDER BY w.o),
                                ARRAY(SELECT p_sessions[w.i] FROM unnest(v_up) WITH ORDINALITY AS w(i, o) ORDER BY w.o),
                                ARRAY(SELECT p_api_key_ids[w.i] FROM unnest(v_up) WITH ORDINALITY AS w(i, o) ORDER BY w.o)) rk;
      FOR g IN
        SELECT x.api_key_id, array_agg(x.i ORDER BY x.o) AS ords
          FROM unnest(v_up, v_keys) WITH ORDINALITY AS x(i, api_key_id, o)
         GROUP BY x.api_key_id
         ORDER BY min(x.o)
      LOOP
        SELECT array_agg(p_account_ids[w.i] ORDER BY w.o), array_agg(p_deltas[w.i] ORDER BY w.o),
               array_agg(p_usage_records[w.i] ORDER BY w.o), array_agg(p_members[w.i] ORDER BY w.o),
               array_agg(p_correction_ids[w.i] ORDER BY w.o)
          INTO a_acc, a_amount, a_record, a_member, a_correction
          FROM unnest(g.ords) WITH ORDINALITY AS w(i, o);
        FOR t IN
          SELECT * FROM credits_take_events(p_created_by, g.api_key_id, p_rate_default, p_thresholds, a_acc, a_amount, a_record,
                                            a_member, array_fill('correction'::varchar, ARRAY[cardinality(a_acc)]),
                                            array_fill('up_to'::varchar, ARRAY[cardinality(a_acc)]),
                                            array_fill(NULL::varchar, ARRAY[cardinality(a_acc)]), a_correction)
        LOOP
          IF t.out_status <> 'ok' THEN
            RAISE EXCEPTION 'credits_correct: the take answered %', t.out_status;
          END IF;
          out_ord := g.ords[t.out_ord];
          out_collected := t.out_collected; out_debt := t.out_debt;
          out_shortfall := a_amount[t.out_ord] - t.out_collected - t.out_debt;
          out_returned := 0; out_regranted := 0; out_repaid := 0;
          RETURN NEXT;
        END LOOP;
      END LOOP;
    END IF;
    -- 3. The give-backs (p_deltas[i] < 0): the open shortfall lowered first, the rest back to the
    -- record's lots, the last taken first. The records whose parts go to live lots not under dispute,
    -- of an account without debt, at once: their lines one writer call, each account's balance counted
    -- up through them, the keys' and members' counters lowered once per period. The others (a dead or
    -- frozen lot, debt to repay, credits the record took as debt) one after the other, below.
    SELECT array_agg(e.ord::int ORDER BY e.ord) INTO v_down FROM unnest(p_deltas) WITH ORDINALITY AS e(delta, ord) WHERE e.delta < 0;
    IF v_down IS NOT NULL THEN
      SELECT array_agg(credit_available(x.account_id) ORDER BY x.ord), array_agg(COALESCE(c.debt, 0)::bigint ORDER BY x.ord)
        INTO u_bal, u_debt
        FROM unnest(v_accounts) WITH ORDINALITY AS x(account_id, ord)
        LEFT JOIN credit_accounts c ON c.account_id = x.account_id;
      SELECT array_agg(p.out_ord ORDER BY p.pos), array_agg(p.out_allocation_id ORDER BY p.pos), array_agg(p.out_paid ORDER BY p.pos),
             array_agg(p.out_paid_value ORDER BY p.pos), array_agg(p.out_live AND NOT p.out_frozen ORDER BY p.pos)
        INTO o_ord, o_alloc, o_paid, o_value, o_plain
        FROM credit_record_lots(ARRAY(SELECT p_account_ids[d.i] FROM unnest(v_down) WITH ORDINALITY AS d(i, o) ORDER BY d.o),
                                ARRAY(SELECT p_usage_records[d.i] FROM unnest(v_down) WITH ORDINALITY AS d(i, o) ORDER BY d.o),
                                ARRAY(SELECT p_sessions[d.i] FROM unnest(v_down) WITH ORDINALITY AS d(i, o) ORDER BY d.o))
               WITH ORDINALITY AS p(out_ord, out_allocation_id, out_paid, out_paid_value, out_live, out_voided, out_frozen, out_currency, pos);
      j := 1;
      FOR k IN 1 .. cardinality(v_down) LOOP
        i := v_down[k];
        u := array_position(v_accounts, p_account_ids[i]);
        v_short := -LEAST(-p_deltas[i]::bigint, p_open_shortfalls[i]::bigint);
        v_left := -p_deltas[i] + v_short;
        v_back := 0;
        v_bal := u_bal[u];
        v_plain := true;
        v_first := l_n;
        WHILE j <= COALESCE(cardinality(o_ord), 0) AND o_ord[j] = k LOOP
          IF v_left > 0 THEN
            v_give := LEAST(v_left, o_paid[j]);
            v_left := v_left - v_give;
            v_back := v_back + v_give;
            v_bal := v_bal + v_give;
            v_plain := v_plain AND o_plain[j];
            l_n := l_n + 1;
            l_acc[l_n] := p_account_ids[i]; l_alloc[l_n] := o_alloc[j]; l_amount[l_n] := v_give; l_balance[l_n] := v_bal;
            l_record[l_n] := p_usage_records[i]; l_member[l_n] := p_members[i]; l_correction[l_n] := p_correction_ids[i];
            -- the money rule over the record's part: what its credits kept do not take goes back with them
            l_value[l_n] := CASE WHEN o_value[j] IS NOT NULL
                                 THEN o_value[j] - credit_value_share(o_value[j], o_paid[j] - v_give, o_paid[j]) END;
          END IF;
          j := j + 1;
        END LOOP;
        IF v_plain AND v_left = 0 AND (v_back = 0 OR u_debt[u] = 0) THEN
          u_bal[u] := v_bal;
          b_ord := b_ord || i; b_back := b_back || v_back; b_short := b_short || v_short;
        ELSE
          -- not at once: its lines dropped, given back on its own below
          l_n := v_first;
          l_acc := l_acc[1:l_n]; l_alloc := l_alloc[1:l_n]; l_amount := l_amount[1:l_n]; l_balance := l_balance[1:l_n];
          l_record := l_record[1:l_n]; l_member := l_member[1:l_n]; l_correction := l_correction[1:l_n]; l_value := l_value[1:l_n];
          f_ord := f_ord || i;
        END IF;
      END LOOP;
      IF l_n > 0 THEN
        PERFORM credit_ledger_write(l_acc, l_alloc, array_fill('correction'::varchar, ARRAY[l_n]), l_amount, l_balance, l_record,
                                    NULL, NULL, p_created_by, l_member, l_value, p_correction_ids => l_correction);
      END IF;
      -- The caps' counters: what went back leaves the key's period and the member's day each record counted in.
      IF 0 < ANY (b_back) THEN
        SELECT array_agg(x.i ORDER BY x.o), array_agg(x.back ORDER BY x.o) INTO c_ord, c_back
          FROM unnest(b_ord, b_back) WITH ORDINALITY AS x(i, back, o) WHERE x.back > 0;
        FOR g IN
          SELECT x.api_key_id, credit_key_period_start(c.period, p_record_ats[x.i]) AS period_start, sum(x.back)::bigint AS back
            FROM unnest(c_ord, c_back, ARRAY(SELECT rk.out_api_key_id
                           FROM credit_record_keys(ARRAY(SELECT p_account_ids[y.i] FROM unnest(c_ord) WITH ORDINALITY AS y(i, o) ORDER BY y.o),
                                                   ARRAY(SELECT p_usage_records[y.i] FROM unnest(c_ord) WITH ORDINALITY AS y(i, o) ORDER BY y.o),
                                                   ARRAY(SELECT p_sessions[y.i] FROM unnest(c_ord) WITH ORDINALITY AS y(i, o) ORDER BY y.o),
                                                   ARRAY(SELECT p_api_key_ids[y.i] FROM unnest(c_ord) WITH ORDINALITY AS y(i, o) ORDER BY y.o)) rk
                          ORDER BY rk.out_ord)) AS x(i, back, api_key_id)
            JOIN credit_caps c ON c.subject_kind = 'key' AND c.subject_id = x.api_key_id::varchar AND c.account_id = 0
                              AND c.credit_limit IS NOT NULL
           GROUP BY x.api_key_id, 2
        LOOP
          PERFORM credit_cap_spend_add('key', ARRAY[g.api_key_id::varchar], ARRAY[NULL::bigint], g.period_start, ARRAY[-g.back]);
        END LOOP;
        FOR g IN
          SELECT y.day, array_agg(y.member_id) AS members, array_agg(y.account_id) AS accounts, array_agg(-y.back) AS deltas
            FROM (SELECT date_trunc('day', p_record_ats[x.i], 'UTC') AS day, p_members[x.i] AS member_id,
                         p_account_ids[x.i] AS account_id, sum(x.back)::bigint AS back
                    FROM unnest(c_ord, c_back) AS x(i, back)
                   WHERE p_members[x.i] IS NOT NULL
                   GROUP BY 1, 2, 3) y
           GROUP BY y.day
        LOOP
          PERFORM credit_cap_spend_add('member', g.members, g.accounts, g.day, g.deltas);
        END LOOP;
      END IF;
      FOR k IN 1 .. COALESCE(cardinality(b_ord), 0) LOOP
        out_ord := b_ord[k]; out_shortfall := b_short[k]; out_returned := b_back[k]; out_regranted := 0; out_repaid := 0;
        out_collected := 0; out_debt := 0;
        RETURN NEXT;
      END LOOP;
      -- The others one after the other, under the locks already held: the open shortfall lowered
      -- first, the rest back to the record's lots, the last taken first, each at most what it gave,
      -- with the money that left with it.
      FOR q IN 1 .. COALESCE(cardinality(f_ord), 0) LOOP
        i := f_ord[q];
        out_ord := i; out_returned := 0; out_regranted := 0; out_repaid := 0; out_collected := 0; out_debt := 0;
        v_back := 0; v_ids := '{}'; v_amounts := '{}'; v_balances := '{}'; v_kinds := '{}'; v_values := '{}';
        v_categories := '{}'; d_currency := '{}'; d_credits := '{}'; d_value := '{}';
        -- The key whose budget the record counted against (credit_record_keys()).
        SELECT rk.out_api_key_id INTO v_key
          FROM credit_record_keys(ARRAY[p_account_ids[i]], ARRAY[p_usage_records[i]], ARRAY[p_sessions[i]], ARRAY[p_api_key_ids[i]]) rk;
        out_shortfall := -LEAST(-p_deltas[i]::bigint, p_open_shortfalls[i]);
        v_left := -p_deltas[i] + out_shortfall;
        v_balance := credit_available(p_account_ids[i]);
        -- The record's part of each lot it was paid from, and that part's money, the last taken first
        -- (credit_record_lots()).
        FOR r IN
          SELECT p.out_allocation_id AS allocation_id, p.out_paid AS paid, p.out_paid_value AS paid_value, p.out_live AS live,
                 p.out_voided AS voided, p.out_frozen AS frozen, p.out_currency AS currency
            FROM credit_record_lots(ARRAY[p_account_ids[i]], ARRAY[p_usage_records[i]], ARRAY[p_sessions[i]]) WITH ORDINALITY AS p
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
        SELECT c.debt INTO v_debt FROM credit_accounts c WHERE c.account_id = p_account_ids[i];
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
          PERFORM credit_ledger_write(array_fill(p_account_ids[i], ARRAY[cardinality(v_ids)]), v_ids, v_kinds, v_amounts, v_balances,
                                      array_fill(p_usage_records[i], ARRAY[cardinality(v_ids)]), NULL, NULL, p_created_by,
                                      array_fill(p_members[i], ARRAY[cardinality(v_ids)]), v_values, v_categories,
                                      p_correction_id => p_correction_ids[i]);
        END IF;
        -- One allocation per currency of what dead lots and the debt could not take (it repays debt first).
        FOR k IN 1 .. cardinality(d_currency) LOOP
          SELECT * INTO g FROM credits_grant(p_account_ids[i], d_credits[k]::int, p_created_by, now() + make_interval(days => p_expiry_days),
                                             'Usage correction of record ' || p_usage_records[i], 'correction', NULL, NULL, NULL, false,
                                             NULL, NULL, CASE WHEN d_currency[k] <> '' THEN d_value[k] END,
                                             NULLIF(d_currency[k], ''), p_usage_records[i], p_correction_ids[i]);
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
                                         credit_key_period_start(v_key_period, p_record_ats[i]), ARRAY[-v_back]);
          END IF;
        END IF;
        IF p_members[i] IS NOT NULL AND v_back > 0 THEN
          PERFORM credit_cap_spend_add('member', ARRAY[p_members[i]], ARRAY[p_account_ids[i]], date_trunc('day', p_record_ats[i], 'UTC'),
                                       ARRAY[-v_back]);
        END IF;
        RETURN NEXT;
      END LOOP;
    END IF;
    -- 4. The corrections of nothing (p_deltas[i] = 0).
    FOR k IN 1 .. n LOOP
      CONTINUE WHEN p_deltas[k] <> 0;
      out_ord := k; out_shortfall := 0; out_returned := 0; out_regranted := 0; out_repaid := 0; out_collected := 0; out_debt := 0;
      RETURN NEXT;
    END LOOP;
  END $function$;
