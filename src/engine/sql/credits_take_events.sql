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
  -- (accounts.account_id, resolved by the caller; NULL or an unknown id: no_account); it is a p_takes[i] ('debit',
  -- the default, or 'hold') in mode p_modes[i] ('strict', the default: all or nothing; 'up_to': a
  -- settlement's overrun, the balance then the overdraft; 'collect': a reviewed shortfall, what the
  -- balance lacks is debt whatever the limit), for session p_sessions[i] (NULL: none); its ledger
  -- lines point at p_usage_records[i] (NULL: none, a hold's). An organisation's event names its
  -- member in p_members[i]: an active member for a strict take (else 'not_a_member'; what a removed
  -- member's open session still owes settles), whose limit is one more cap, read and counted under
  -- the organisation's lock. Each event's outcome is its own row (TigerBeetle's create_transfers:
  -- flags per transfer, a result per event); a refused event moves nothing, the later ones still
  -- apply. Every decision is credit_decide()'s. A usage correction's overrun is a take 'correction'
  -- (a debit whose lines say so, naming the correction p_corrections[i]; NULL: none). p_volumes[i]: its rule's volume
  -- steps (NULL: none, no volume statement); its amount decided here (credit_volume_price()), its step out_volume_step.
  -- Budgets by scope: p_scopes[i], below. Event i's writer (its lines' created_by): p_created_bys[i], else p_created_by.
  DECLARE
    n integer;
    -- per event, by position
    e_acc bigint[]; e_amount integer[]; e_record uuid[]; e_u integer[];
    e_status varchar[]; e_collected bigint[]; e_debt bigint[]; e_before bigint[]; e_balance bigint[];
    e_retry integer[]; e_member varchar[]; e_m integer[]; l_member varchar[] := '{}';
    e_take varchar[]; e_mode varchar[]; e_session varchar[]; e_avail bigint[]; e_head bigint[]; e_parts jsonb[];
    -- per (organisation, member) pair: found, removed, limit, period, spent in the period (before, and so far), added
    m_u integer[]; m_member varchar[]; m_found boolean[]; m_removed boolean[]; m_limit bigint[]; m_period varchar[];
    m_before bigint[]; m_spent bigint[]; m_added bigint[]; mi integer;
    -- per account, in account id order: its id, its organisation (null: a user's account)
    u_acc bigint[]; u_org varchar[]; u_known boolean[]; u_avail bigint[]; u_overdraft integer[]; u_owed bigint[];
    u_ptr integer[]; u_last integer[];
    -- per account: hourly limit, spend window (flat: 60 slots an account, as credit_accounts keeps them), its sum
    u_limit integer[]; u_used bigint[]; u_rated boolean[]; u_added bigint[];
    v_recharge boolean; v_rated boolean := false;
    v_minute bigint := floor(extract(epoch FROM now()) / 60)::bigint;
    -- the accounts' live allocations, by account, then FIFO
    a_id uuid[]; a_rem integer[]; a_u integer[];
    -- ledger lines to write, in the order they happen
    l_n integer := 0; l_user bigint[] := '{}'; l_alloc uuid[] := '{}'; l_kind varchar[] := '{}'; l_amount integer[] := '{}';
    l_balance bigint[] := '{}'; l_record uuid[] := '{}'; l_session varchar[] := '{}'; l_correction uuid[] := '{}'; l_by varchar[] := '{}';
    v_key_limit integer; v_key_period varchar; v_key_start timestamptz; v_key_spent bigint := 0;
    v_key_used boolean := false; v_key_charged bigint := 0;
    i integer; u integer; j integer;
    v_amount integer; v_ask bigint; v_strict boolean; v_windowed boolean; v_headroom bigint; v_od bigint;
    v_spent bigint; v_bal bigint; v_status varchar; v_parts integer[]; k integer; v_hold_parts jsonb;
    -- a batch of one's account, organisation, settings, alert thresholds and allocations' sum and count;
    -- whether any movement lowered a balance
    acc credit_accounts%ROWTYPE; v_thresholds integer[]; v_alerts boolean := false; v_top_threshold integer;
    v_acc bigint; v_org varchar; v_total bigint; v_count integer; v_one_session boolean; v_bad boolean;
    v_members boolean := cardinality(array_remove(p_members, NULL)) > 0; -- whether an event names a member
    -- volume steps: the charges let through (w_), kept after the lines (credit_volume_charges())
    vp record; v_volume jsonb; e_step integer[]; w_acc bigint[]; w_model varchar[]; w_mode varchar[]; w_start timestamptz[]; w_end timestamptz[]; w_tokens bigint[]; w_base numeric[]; w_cost numeric[]; w_give integer[]; w_expires timestamptz[]; w_record uuid[]; w_by varchar[];
    -- budgets by scope: credit_budget_caps()'s one row (v_caps: each budget once, event i's at out_caps[e_bfrom[i] ..
    -- out_to[i]]), what the take added to each (b_added), an event's cap bc_* (their least room, v_room)
    v_caps record; b_added bigint[]; e_bfrom integer[]; bk integer; bc_codes varchar[] := '{}'; bc_used bigint[] := '{}'; bc_limits bigint[] := '{}'; v_room bigint;
  BEGIN
    e_acc := p_account_ids; e_amount := p_amounts; e_record := p_usage_records;
    n := COALESCE(cardinality(e_acc), 0);
    IF n = 0 THEN RETURN; END IF;
    e_member := COALESCE(p_members, array_fill(NULL::varchar, ARRAY[n]));
    e_take := COALESCE(p_takes, array_fill('debit'::varchar, ARRAY[n]));
    e_mode := COALESCE(p_modes, array_fill('strict'::varchar, ARRAY[n]));
    e_session := COALESCE(p_sessions, array_fill(NULL::varchar, ARRAY[n]));
    -- The input checked. Every statement costs its start-up whatever its size, and a record is a batch
    -- of one: a batch of one is resolved and locked, its member and settings read and its allocations
    -- found by scalar lookups (no statement over its arrays), the same steps as a batch's. Each of
    -- these forks is worth 15 to 50 % of a single take's time in the database (docs/benchmarks.md
    -- "The batch of one's forks"); the rest of the function is one shape.
    v_bad := cardinality(e_amount) IS DISTINCT FROM n OR cardinality(e_record) IS DISTINCT FROM n
             OR cardinality(e_member) IS DISTINCT FROM n
             OR cardinality(e_take) IS DISTINCT FROM n OR cardinality(e_mode) IS DISTINCT FROM n
             OR cardinality(e_session) IS DISTINCT FROM n;
    IF NOT v_bad THEN
      v_bad := EXISTS (SELECT 1 FROM unnest(e_amount, e_take, e_mode) AS x(amount, tk, md)
                        WHERE x.amount IS NULL OR x.amount < 0 OR x.tk IS NULL OR x.tk NOT IN ('debit', 'hold', 'correction')
                           OR x.md IS NULL OR x.md NOT IN ('strict', 'up_to', 'collect'));
    END IF;
    IF v_bad THEN
      RAISE EXCEPTION 'credits_take_events: every event needs a non-negative amount, a take (debit, hold or correction) and a mode (strict, up_to or collect)';
    END IF;
    IF n = 1 THEN
      -- One account, locked by equality (credits_lock_account_ids()); its organisation read only for a
      -- member's event (a user's record pays no lookup for it).
      e_u := ARRAY[1];
      SELECT l.id INTO v_acc FROM credits_lock_account_ids(e_acc) l(id);
      u_acc := ARRAY[v_acc]; u_known := ARRAY[v_acc IS NOT NULL];
      IF e_member[1] IS NOT NULL AND v_acc IS NOT NULL THEN
        v_org := account_org_id(v_acc);
      END IF;
      u_org := ARRAY[v_org];
      IF v_org IS NOT NULL THEN
        m_u := ARRAY[1]; m_member := e_member; e_m := ARRAY[1];
      ELSE
        e_m := ARRAY[NULL::integer];
      END IF;
    ELSE
    -- The batch's accounts, each once, in account id order (an event without one counts as account 0,
    -- which no account has).
    SELECT array_agg(DISTINCT COALESCE(t.x, 0) ORDER BY COALESCE(t.x, 0)) INTO u_acc FROM unnest(e_acc) AS t(x);
    SELECT array_agg(u.ord::int ORDER BY e.ord) INTO e_u
      FROM unnest(e_acc) WITH ORDINALITY AS e(account_id, ord)
      JOIN unnest(u_acc) WITH ORDINALITY AS u(account_id, ord) ON u.account_id = COALESCE(e.account_id, 0);

    -- Every account of the batch, locked in account id order (credits_lock_account_ids(), the order of
    -- every movement's lock): one account's movements serialise with all others, and two batches take
    -- their locks in the same order; with each its organisation (null: a user's), read only when an
    -- event names a member (a batch of users' records pays no lookup). Settings read under the lock.
    SELECT array_agg(l.id IS NOT NULL ORDER BY u.ord), array_agg(l.id ORDER BY u.ord) INTO u_known, u_acc
      FROM unnest(u_acc) WITH ORDINALITY AS u(account_id, ord)
      LEFT JOIN credits_lock_account_ids(u_acc) AS l(id) ON l.id = u.account_id;
    IF v_members THEN u_org := (SELECT array_agg(account_org_id(x.a) ORDER BY x.o) FROM unnest(u_acc) WITH ORDINALITY AS x(a, o)); END IF; -- apart: with the lock, as `CASE WHEN v_members`, planned at every call
    -- The organisations' members of the batch, read under their organisation's lock: whether each is
    -- one (and removed), their limit and what they spent in its period.
    SELECT array_agg(d.u ORDER BY d.u, d.member), array_agg(d.member ORDER BY d.u, d.member) INTO m_u, m_member
      FROM (SELECT DISTINCT e.u, e.member FROM unnest(e_u, e_member) AS e(u, member) WHERE e.member IS NOT NULL) d
     WHERE u_org[d.u] IS NOT NULL;
    IF m_u IS NOT NULL THEN
      SELECT array_agg(m.ord::int ORDER BY e.ord) INTO e_m
        FROM unnest(e_u, e_member) WITH ORDINALITY AS e(u, member, ord)
        LEFT JOIN unnest(m_u, m_member) WITH ORDINALITY AS m(u, member, ord) ON m.u = e.u AND m.member = e.member;
    ELSE
      e_m := array_fill(NULL::integer, ARRAY[n]);
    END IF;
    END IF;
    IF m_u IS NOT NULL AND n = 1 THEN
      -- A batch of one's member by equality: the statement over unnest() below is planned for ten
      -- rows, and for one it cost an organisation's record more than the rest of its member cap.
      SELECT ARRAY[om.user_id IS NOT NULL], ARRAY[om.removed_at IS NOT NULL], ARRAY[cap.credit_limit],
             ARRAY[cap.period],
             ARRAY[COALESCE(sp.spent, 0)]
        INTO m_found, m_removed, m_limit, m_period, m_before
        FROM (SELECT 1) one
        LEFT JOIN org_members om ON om.org_id = u_org[1] AND om.user_id = m_member[1]
        LEFT JOIN credit_caps cap ON cap.subject_kind = 'member' AND cap.subject_id = m_member[1]
                                 AND cap.account_id = v_acc
        LEFT JOIN LATERAL credit_cap_spent('member', om.user_id, v_acc, cap.period, now()) sp ON cap.credit_limit IS NOT NULL;
      m_spent := m_before;
      m_added := ARRAY[0::bigint];
    ELSIF m_u IS NOT NULL THEN
      SELECT array_agg(om.user_id IS NOT NULL ORDER BY m.ord), array_agg(om.removed_at IS NOT NULL ORDER BY m.ord),
             array_agg(cap.credit_limit ORDER BY m.ord), array_agg(cap.period ORDER BY m.ord),
             array_agg(COALESCE(sp.spent, 0) ORDER BY m.ord)
        INTO m_found, m_removed, m_limit, m_period, m_before
        FROM unnest(m_u, m_member) WITH ORDINALITY AS m(u, member, ord)
        LEFT JOIN org_members om ON om.org_id = u_org[m.u] AND om.user_id = m.member
        -- the member's limit (credit_caps), one primary-key lookup, and what they spent in its period
        LEFT JOIN credit_caps cap ON cap.subject_kind = 'member' AND cap.subject_id = m.member
                                 AND cap.account_id = u_acc[m.u]
        LEFT JOIN LATERAL credit_cap_spent('member', om.user_id, u_acc[m.u], cap.period, now()) sp
               ON cap.credit_limit IS NOT NULL;
      m_spent := m_before;
      m_added := array_fill(0::bigint, ARRAY[cardinality(m_u)]);
    END IF;
    -- The accounts' settings, read under the lock; for an account with an hourly limit, what it spent
    -- in the last hour (the stored buckets still in the hour).
    IF n = 1 THEN
      SELECT * INTO acc FROM credit_accounts c WHERE c.account_id = v_acc;
      u_limit := ARRAY[COALESCE(acc.max_credits_per_hour, p_rate_default)]; u_overdraft := ARRAY[acc.overdraft_limit];
      u_owed := ARRAY[COALESCE(acc.debt, 0)]; u_used := ARRAY[0::bigint];
      u_rated := ARRAY[false]; v_recharge := acc.recharge_below IS NOT NULL;
      v_thresholds := COALESCE(acc.low_balance_thresholds, p_thresholds);
      FOREACH k IN ARRAY COALESCE(v_thresholds, '{}') LOOP v_top_threshold := GREATEST(v_top_threshold, k); END LOOP;
      IF u_limit[1] IS NOT NULL THEN
        u_used[1] := (SELECT COALESCE(sum(x), 0) FROM unnest(credit_spend_window(acc.spend_window, acc.spend_minute, v_minute)) x);
      END IF;
    ELSE
    SELECT array_agg(COALESCE(c.max_credits_per_hour, p_rate_default) ORDER BY u.ord),
           array_agg(c.overdraft_limit ORDER BY u.ord), array_agg(COALESCE(c.debt, 0) ORDER BY u.ord),
           array_agg(CASE WHEN COALESCE(c.max_credits_per_hour, p_rate_default) IS NULL THEN 0
                          ELSE COALESCE((SELECT sum(x) FROM unnest(credit_spend_window(c.spend_window, c.spend_minute,
                                                                                       v_minute)) x), 0) END::bigint
                     ORDER BY u.ord),
           array_agg(false ORDER BY u.ord), bool_or(c.recharge_below IS NOT NULL), max((SELECT max(t) FROM unnest(c.low_balance_thresholds) t))
      INTO u_limit, u_overdraft, u_owed, u_used, u_rated, v_recharge, v_top_threshold
      FROM unnest(u_acc) WITH ORDINALITY AS u(account_id, ord)
      LEFT JOIN credit_accounts c ON c.account_id = u.account_id;
    v_top_threshold := GREATEST(v_top_threshold, (SELECT max(t) FROM unnest(p_thresholds) t)); -- any account's top threshold
    END IF;
    u_added := array_fill(0::bigint, ARRAY[cardinality(u_acc)]);
    -- The caller's key budget; its cap row locked after the accounts, so takes through one key (an
    -- ingest key records for many accounts) decide against each other's spend, one at a time.
    IF p_api_key_id IS NOT NULL THEN
      SELECT c.credit_limit, c.period INTO v_key_limit, v_key_period
        FROM credit_caps c
       WHERE c.subject_kind = 'key' AND c.subject_id = p_api_key_id::varchar AND c.account_id = 0
         AND c.credit_limit IS NOT NULL FOR NO KEY UPDATE;
      IF v_key_limit IS NOT NULL THEN
        v_key_start := credit_key_period_start(v_key_period, now());
        SELECT sp.spent INTO v_key_spent FROM credit_cap_spent('key', p_api_key_id::varchar, NULL, v_key_period, now()) sp;
      END IF;
    END IF;

    -- The budgets the events' scopes name (docs/budgets.md), under the locks, by the events' account ids (an unknown one has none); no scopes, no statement.
    IF p_scopes IS NOT NULL THEN v_caps := credit_budget_caps(e_acc, p_scopes);
      e_bfrom := v_caps.out_from; b_added := v_caps.out_added; bc_codes := '{budget:}'; bc_used := '{0}'; END IF;

    -- The accounts' live allocations, locked, soonest-expiring first (ties: oldest), grouped by account,
    -- with each account's first and last allocation and its balance.
    IF cardinality(u_acc) = 1 THEN
      SELECT array_agg(f.out_id ORDER BY f.ord), array_agg(f.out_remaining ORDER BY f.ord),
             COALESCE(sum(f.out_remaining), 0)::bigint, count(*)::int
        INTO a_id, a_rem, v_total, v_count
        FROM credit_allocations_fifo(u_acc) WITH ORDINALITY AS f(out_id, out_account_id, out_remaining, ord);
      a_id := COALESCE(a_id, '{}'); a_rem := COALESCE(a_rem, '{}');
      u_ptr := ARRAY[LEAST(v_count, 1)]; u_last := ARRAY[v_count]; u_avail := ARRAY[v_total];
    ELSE
    SELECT array_agg(f.out_id ORDER BY f.ord), array_agg(f.out_remaining ORDER BY f.ord),
           array_agg(u.ord::int ORDER BY f.ord)
      INTO a_id, a_rem, a_u
      FROM credit_allocations_fifo(u_acc) WITH ORDINALITY AS f(out_id, out_account_id, out_remaining, ord)
      JOIN unnest(u_acc) WITH ORDINALITY AS u(account_id, ord) ON u.account_id = f.out_account_id;
    a_id := COALESCE(a_id, '{}'); a_rem := COALESCE(a_rem, '{}');
    SELECT array_agg(COALESCE(g.first, 0) ORDER BY u.ord), array_agg(COALESCE(g.last, 0) ORDER BY u.ord),
           array_agg(COALESCE(g.total, 0) ORDER BY u.ord)
      INTO u_ptr, u_last, u_avail
      FROM unnest(u_acc) WITH ORDINALITY AS u(account_id, ord) -- (not generate_series() over its length: planned at every call)
      LEFT JOIN (SELECT a.u, min(a.i)::int AS first, max(a.i)::int AS last, sum(a.rem)::bigint AS total
                   FROM unnest(a_u, a_rem) WITH ORDINALITY AS a(u, rem, i)
                  GROUP BY a.u) g ON g.u = u.ord;
    END IF;

    e_status := array_fill(NULL::varchar, ARRAY[n]);
    e_collected := array_fill(0::bigint, ARRAY[n]); e_debt := e_collected; e_balance := e_collected;
    e_before := e_collected; e_avail := e_collected; e_head := e_collected;
    e_retry := array_fill(NULL::integer, ARRAY[n]); e_parts := array_fill('[]'::jsonb, ARRAY[n]);
    FOR i IN 1 .. n LOOP
      u := e_u[i];
      IF NOT u_known[u] THEN e_status[i] := 'no_account'; CONTINUE; END IF;
      v_strict := e_mode[i] = 'strict';
      mi := e_m[i];
      IF mi IS NOT NULL AND (NOT m_found[mi] OR (v_strict AND m_removed[mi])) THEN
        e_status[i] := 'not_a_member'; CONTINUE;
      END IF;
      v_amount := e_amount[i];
      IF p_volumes[i] IS NOT NULL THEN -- volume steps: the amount decided under the lock, against the period's total
        v_volume := p_volumes[i]; -- after the batch's earlier charges on the model, not kept yet (p_volume.before)
        IF u_acc[u] = ANY (w_acc) THEN v_volume := v_volume || jsonb_build_object('before', (SELECT jsonb_agg(jsonb_build_object('start', w.s, 'tokens', w.t, 'base', w.b, 'cost', w.c) ORDER BY w.k) FROM unnest(w_acc, w_model, w_start, w_tokens, w_base, w_cost) WITH ORDINALITY AS w(a, m, s, t, b, c, k) WHERE w.a = u_acc[u] AND w.m = v_volume ->> 'model')); END IF;
        vp := credit_volume_price(u_acc[u], v_volume); v_amount := vp.out_amount; e_amount[i] := v_amount;
      END IF;
      -- What the caps must leave room for: a hold asks for at least one credit, so a session cannot
      -- start on a key budget or an hourly window that is used up, whatever its estimate.
      v_ask := CASE WHEN e_take[i] = 'hold' THEN GREATEST(v_amount, 1) ELSE v_amount END;
      -- The hourly window counts what spends now: an up_to overrun is never refused but still counts;
      -- a collected shortfall is old usage and stays out of it.
      v_windowed := u_limit[u] IS NOT NULL AND v_ask > 0 AND e_mode[i] <> 'collect';
      -- A reviewed shortfall is debt whatever the limit; a hold never overdraws.
      v_headroom := CASE WHEN e_mode[i] = 'collect' THEN v_amount
                         WHEN e_take[i] <> 'hold' THEN credit_headroom(u_overdraft[u], u_owed[u]) ELSE 0 END;
      -- The one decision: the key's budget, the member's limit (what they spent in its period, this
      -- batch's events before included), then the hourly window (the stored buckets for the last hour
      -- plus what this batch has spent this minute), then the balance and headroom the events before left.
      IF e_bfrom[i] IS NOT NULL OR bc_codes <> '{}' THEN v_room := NULL; FOREACH bk IN ARRAY COALESCE(v_caps.out_caps[e_bfrom[i]:v_caps.out_to[i]], '{}') LOOP v_room := LEAST(v_room, v_caps.out_limit[bk] - v_caps.out_spent[bk] - b_added[bk]); END LOOP; bc_limits := ARRAY[v_room]; END IF; -- then its budgets, as one cap 'budget:' of their least room (none: no limit)
      v_status := credit_decide(v_strict, v_amount, v_ask, ARRAY['key_limit', 'member_limit', 'rate_limited']::varchar[] || bc_codes,
                                ARRAY[v_key_spent, COALESCE(m_spent[mi], 0), u_used[u]] || bc_used,
                                ARRAY[v_key_limit, m_limit[mi], CASE WHEN v_windowed THEN u_limit[u] END]::bigint[] || bc_limits,
                                u_avail[u], v_headroom);
      e_avail[i] := u_avail[u]; e_head[i] := v_headroom;
      IF v_status LIKE 'budget:%' THEN -- the budget that cannot cover it, as BUDGET_EXCEEDED tells it
        FOREACH bk IN ARRAY v_caps.out_caps[e_bfrom[i]:v_caps.out_to[i]] LOOP EXIT WHEN v_caps.out_spent[bk] + b_added[bk] + v_ask > v_caps.out_limit[bk]; END LOOP; e_status[i] := 'budget_exceeded'; -- the first in refusal order
        e_parts[i] := credit_budget_refusal(v_caps.out_id[bk], v_caps.out_name[bk], v_caps.out_limit[bk], v_caps.out_spent[bk] + b_added[bk], v_caps.out_start[bk], v_caps.out_account[bk]); CONTINUE;
      ELSIF v_status <> 'ok' THEN
        e_status[i] := v_status;
        IF v_status = 'rate_limited' THEN
          e_retry[i] := credit_take_retry_after(u_acc[u], v_minute, u_added[u], v_ask, u_limit[u]);
        ELSIF v_status = 'insufficient' THEN
          e_balance[i] := u_avail[u] + v_headroom;
        END IF;
        CONTINUE;
      END IF;
      v_bal := u_avail[u];
      e_before[i] := v_bal;
      -- FIFO over the account's allocations still holding credits (from u_ptr); one ledger line per
      -- allocation touched, counting down from the balance found.
      v_parts := credit_fifo_walk(a_rem[u_ptr[u]:u_last[u]], LEAST(v_amount, v_bal)::int);
      v_hold_parts := '[]'::jsonb;
      FOR k IN 1 .. cardinality(v_parts) LOOP
        j := u_ptr[u] + k - 1;
        a_rem[j] := a_rem[j] - v_parts[k];
        v_bal := v_bal - v_parts[k];
        l_n := l_n + 1;
        l_user[l_n] := u_acc[u]; l_alloc[l_n] := a_id[j]; l_kind[l_n] := e_take[i]; l_amount[l_n] := -v_parts[k];
        l_balance[l_n] := v_bal; l_record[l_n] := e_record[i]; l_member[l_n] := e_member[i];
        l_session[l_n] := e_session[i]; l_correction[l_n] := p_corrections[i]; l_by[l_n] := p_created_bys[i];
        -- what a hold keeps of each allocation (a settlement gives it back to the same rows)
        IF e_take[i] = 'hold' THEN
          v_hold_parts := v_hold_parts || jsonb_build_object('allocationId', a_id[j], 'amount', v_parts[k]);
        END IF;
      END LOOP;
      WHILE u_ptr[u] BETWEEN 1 AND u_last[u] AND a_rem[u_ptr[u]] = 0 LOOP
        u_ptr[u] := u_ptr[u] + 1;
      END LOOP;
      -- What the balance lacks within the headroom: one overdraft line (no allocation) at the balance left.
      v_od := LEAST(v_amount - (u_avail[u] - v_bal), v_headroom);
      IF v_od > 0 THEN
        l_n := l_n + 1;
        l_user[l_n] := u_acc[u]; l_alloc[l_n] := NULL; l_kind[l_n] := 'overdraft'; l_amount[l_n] := -v_od;
        l_balance[l_n] := v_bal; l_record[l_n] := e_record[i]; l_member[l_n] := e_member[i];
        l_session[l_n] := e_session[i]; l_correction[l_n] := p_corrections[i]; l_by[l_n] := p_created_bys[i];
        u_owed[u] := u_owed[u] + v_od;
      ELSE
        v_od := 0;
      END IF;
      v_spent := u_avail[u] - v_bal + v_od;
      -- a movement that lowered the balance may alert (credit_balance_alerts() decides, below): only one ending below a threshold or at 0
      IF v_bal < u_avail[u] AND (v_bal < v_top_threshold OR (u_avail[u] > 0 AND v_bal <= 0)) THEN v_alerts := true; END IF;
      u_avail[u] := v_bal;
      e_status[i] := 'ok'; e_collected[i] := v_spent - v_od; e_debt[i] := v_od; e_balance[i] := v_bal;
      e_parts[i] := v_hold_parts;
      IF p_volumes[i] IS NOT NULL THEN -- the charge let through: its period's total, money and give-back kept after the lines
        e_step[i] := vp.out_step; w_acc := w_acc || u_acc[u]; w_model := w_model || (v_volume ->> 'model'); w_mode := w_mode || (v_volume ->> 'mode'); w_start := w_start || vp.out_period_start; w_end := w_end || vp.out_period_end;
        w_tokens := w_tokens || vp.out_tokens; w_base := w_base || vp.out_base; w_cost := w_cost || vp.out_cost; w_give := w_give || vp.out_give_back; w_expires := w_expires || vp.out_expires; w_record := w_record || e_record[i]; w_by := array_append(w_by, p_created_bys[i]);
      END IF;
      IF v_windowed AND v_spent > 0 THEN
        u_added[u] := u_added[u] + v_spent;
        u_used[u] := u_used[u] + v_spent; u_rated[u] := true; v_rated := true;
      END IF;
      -- Only a charge that takes a cap's spend to its limit can send the cap's event
      -- (credit_cap_limit_event() decides whether it does): the others make no call.
      IF v_key_limit IS NOT NULL THEN
        IF v_spent > 0 AND v_key_spent + v_spent >= v_key_limit THEN
          PERFORM credit_cap_limit_event('key', p_api_key_id::varchar, u_acc[u], v_key_limit, v_key_period, v_key_spent,
                                         v_spent);
        END IF;
        v_key_spent := v_key_spent + v_spent; v_key_charged := v_key_charged + v_spent; v_key_used := true;
      END IF;
      IF e_bfrom[i] IS NOT NULL AND v_spent > 0 THEN IF v_spent >= v_room THEN FOREACH bk IN ARRAY v_caps.out_caps[e_bfrom[i]:v_caps.out_to[i]] LOOP IF v_caps.out_spent[bk] + b_added[bk] < v_caps.out_limit[bk] AND v_caps.out_spent[bk] + b_added[bk] + v_spent >= v_caps.out_limit[bk] THEN PERFORM credit_budget_reached(v_caps.out_id[bk], v_caps.out_start[bk], v_caps.out_spent[bk] + b_added[bk] + v_spent); END IF; END LOOP; END IF; FOREACH bk IN ARRAY v_caps.out_caps[e_bfrom[i]:v_caps.out_to[i]] LOOP b_added[bk] := b_added[bk] + v_spent; END LOOP; END IF; -- counted (budget.reached when it brings one to its limit: only when the charge reaches the least room)
      IF mi IS NOT NULL AND v_spent > 0 THEN
        IF m_spent[mi] + v_spent >= m_limit[mi] THEN
          PERFORM credit_cap_limit_event('member', e_member[i], u_acc[u], m_limit[mi], m_period[mi], m_spent[mi], v_spent);
        END IF;
        m_spent[mi] := m_spent[mi] + v_spent; m_added[mi] := m_added[mi] + v_spent;
      END IF;
    END LOOP;

    -- The lines, by the one writer: one call for the usual batch (one session, or none); lines of
    -- several sessions grouped by session, each group in the order it happened.
    IF l_n > 0 THEN
      v_one_session := NOT EXISTS (SELECT 1 FROM unnest(l_session) s WHERE s IS DISTINCT FROM l_session[1]);
      IF v_one_session THEN
        PERFORM credit_ledger_write(l_user, l_alloc, l_kind, l_amount, l_balance, l_record, l_session[1], p_api_key_id,
                                    p_created_by, l_member, p_correction_ids => l_correction, p_created_bys => l_by);
      ELSE
        PERFORM credit_ledger_write(g.accounts, g.allocations, g.kinds, g.amounts, g.balances, g.records, g.session,
                                    p_api_key_id, p_created_by, g.members, p_correction_ids => g.corrections, p_created_bys => g.bys)
           FROM (SELECT l.session, min(l.i) AS first, array_agg(l_user[l.i] ORDER BY l.i) AS accounts,
                        array_agg(l_alloc[l.i] ORDER BY l.i) AS allocations, array_agg(l_kind[l.i] ORDER BY l.i) AS kinds,
                        array_agg(l_amount[l.i] ORDER BY l.i) AS amounts, array_agg(l_balance[l.i] ORDER BY l.i) AS balances,
                        array_agg(l_record[l.i] ORDER BY l.i) AS records, array_agg(l_member[l.i] ORDER BY l.i) AS members,
                        array_agg(l_correction[l.i] ORDER BY l.i) AS corrections, array_agg(l_by[l.i] ORDER BY l.i) AS bys
                   FROM unnest(l_session) WITH ORDINALITY AS l(session, i)
                  GROUP BY l.session
                  ORDER BY min(l.i)) g;
      END IF;
    END IF;
    IF w_acc IS NOT NULL THEN -- the volume tail: the periods' totals, the lines' money, the give-backs
      k := credit_volume_charges(w_acc, w_model, w_mode, w_start, w_end, w_tokens, w_base, w_cost, w_give, w_expires, w_record, NULL, p_created_by, p_api_key_id, w_by);
    END IF;
    -- What follows writes only when there is something to write: each statement costs its start-up
    -- whether or not it finds rows, and a record (a batch of one) pays them all.
    -- The members' counters, every member once (m_u, m_member: the distinct pairs) with what their
    -- events added.
    IF m_u IS NOT NULL AND 0 < ANY (m_added) THEN
      PERFORM credit_cap_spend_add('member', m_member,
                                   (SELECT array_agg(u_acc[x.u] ORDER BY x.ord) FROM unnest(m_u) WITH ORDINALITY AS x(u, ord)),
                                   date_trunc('day', now(), 'UTC'), m_added);
    END IF;
    -- The spend windows (the debts follow the overdraft lines in credit_ledger_write()).
    IF v_rated THEN
    INSERT INTO credit_accounts AS c (account_id, spend_minute, spend_window)
    SELECT d.account_id, v_minute,
           (SELECT array_agg((CASE WHEN s.slot = (v_minute % 60) + 1 THEN d.added ELSE 0 END)::int ORDER BY s.slot)
              FROM generate_series(1, 60) AS s(slot))
      FROM unnest(u_acc, u_rated, u_added) AS d(account_id, rated, added) WHERE d.rated
    ON CONFLICT (account_id) DO UPDATE
      SET spend_minute = EXCLUDED.spend_minute,
          -- the stored buckets still in the hour, plus what this batch spent this minute
          spend_window = (SELECT array_agg(x.kept + x.added ORDER BY x.slot)
                            FROM unnest(credit_spend_window(c.spend_window, c.spend_minute, v_minute), EXCLUDED.spend_window)
                                 WITH ORDINALITY AS x(kept, added, slot)),
          updated_at = now();
    END IF;
    IF 0 < ANY (b_added) THEN PERFORM credit_budget_count(v_caps.out_id, v_caps.out_account, v_caps.out_start, b_added); END IF;
    IF v_key_used THEN
      -- The events' limit_reached were sent in their order above; the spend is counted once.
      PERFORM credit_cap_spend_add('key', ARRAY[p_api_key_id::varchar], ARRAY[NULL::bigint], v_key_start, ARRAY[v_key_charged]);
    END IF;

    -- The balance alerts, in the order the movements happened (credit_take_alerts()).
    IF v_alerts THEN PERFORM credit_take_alerts(u_acc, e_u, e_before, e_balance, e_status, p_thresholds); END IF;
    IF v_recharge THEN
    PERFORM auto_recharge_check(b.account_id, b.avail) FROM unnest(u_acc, u_avail) WITH ORDINALITY AS b(account_id, avail, u) JOIN credit_accounts c ON c.account_id = b.account_id AND c.recharge_below > b.avail WHERE EXISTS (SELECT 1 FROM unnest(e_u, e_status, e_collected, e_debt) AS e(u, status, taken, debt) WHERE e.u = b.u AND e.status = 'ok' AND e.taken + e.debt > 0);
    END IF;

    -- Over unnest(), whose plan is kept; generate_series(1, n)'s was made afresh at every call.
    RETURN QUERY
      SELECT g.i::int, e_status[g.i], e_record[g.i], e_collected[g.i], e_debt[g.i], e_balance[g.i], e_retry[g.i],
             e_avail[g.i], e_head[g.i], e_parts[g.i], e_step[g.i] FROM unnest(e_status) WITH ORDINALITY AS g(status, i);
  END $function$;
