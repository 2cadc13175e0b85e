CREATE OR REPLACE FUNCTION public.credits_take_events(p_created_by character varying, p_api_key_id uuid, p_rate_default integer, p_thresholds integer[], p_accounts character varying[], p_amounts integer[], p_usage_records uuid[], p_account_kind character varying DEFAULT 'user'::character varying, p_kinds character varying[] DEFAULT NULL::character varying[], p_members character varying[] DEFAULT NULL::character varying[])
 RETURNS TABLE(out_ord integer, out_status character varying, out_usage_record_id uuid, out_collected bigint, out_debt bigint, out_balance bigint, out_retry_after integer)
 LANGUAGE plpgsql
AS $function$
  -- The batch take: one strict debit per event, in array order, of whichever accounts; event i takes
  -- p_amounts[i] from p_accounts[i] and its ledger lines point at p_usage_records[i]. The caller's
  -- statement claimed the events' ids, writes the records of the events let through and gives the
  -- refused ones' ids back. Event i's
  -- account is of kind p_kinds[i] (all p_account_kind when NULL), so a batch mixes users and
  -- organisations; an organisation's event names its member in p_members[i], whose limit is one more
  -- cap, read and counted under the organisation's lock as credits_take() does.
  DECLARE
    n integer;
    -- per event, by position
    e_user varchar[]; e_amount integer[]; e_record uuid[]; e_u integer[];
    e_status varchar[]; e_collected bigint[]; e_debt bigint[]; e_before bigint[]; e_balance bigint[];
    e_retry integer[]; e_kind varchar[]; e_member varchar[]; e_m integer[]; l_member varchar[] := '{}';
    -- per (organisation, member) pair: active, limit, period, spent in the period (before, and so far), added
    m_u integer[]; m_member varchar[]; m_active boolean[]; m_limit bigint[]; m_period varchar[]; m_before bigint[];
    m_spent bigint[]; m_added bigint[]; mi integer;
    u_kind varchar[]; u_owner varchar[];
    -- per user, in user-id order
    u_id varchar[]; u_acc bigint[]; u_known boolean[]; u_avail bigint[]; u_head bigint[]; u_debt bigint[]; u_ptr integer[]; u_last integer[];
    -- per user: hourly limit, spend window (flat: 60 slots a user, as credit_accounts keeps them), its sum
    u_limit integer[]; u_minute bigint[]; u_used bigint[]; u_rated boolean[]; u_added bigint[]; w integer[];
    v_recharge boolean; v_debts boolean := false; v_rated boolean := false;
    v_minute bigint := floor(extract(epoch FROM now()) / 60)::bigint;
    -- the users' live allocations, by user, then FIFO
    a_id uuid[]; a_rem integer[]; a_u integer[];
    -- ledger lines to write, in the order they happen
    l_n integer := 0;
    l_user bigint[] := '{}'; l_alloc uuid[] := '{}'; l_kind varchar[] := '{}'; l_amount integer[] := '{}';
    l_balance bigint[] := '{}'; l_record uuid[] := '{}';
    v_key_limit integer; v_key_period varchar; v_key_start timestamptz; v_key_spent bigint := 0;
    v_key_used boolean := false; v_key_charged bigint := 0;
    i integer; u integer; j integer;
    v_amount integer; v_od integer; v_bal bigint; v_status varchar; v_parts integer[]; k integer;
  BEGIN
    e_user := p_accounts; e_amount := p_amounts; e_record := p_usage_records;
    n := COALESCE(cardinality(e_user), 0);
    IF n = 0 THEN RETURN; END IF;
    IF cardinality(e_amount) IS DISTINCT FROM n OR cardinality(e_record) IS DISTINCT FROM n
       OR EXISTS (SELECT 1 FROM unnest(e_amount, e_user, e_record) AS x(amount, user_id, id)
                   WHERE x.amount IS NULL OR x.amount < 0 OR x.user_id IS NULL OR x.id IS NULL) THEN
      RAISE EXCEPTION 'credits_take_events: every event needs an account, a usage record and a non-negative amount';
    END IF;

    e_kind := COALESCE(p_kinds, array_fill(p_account_kind, ARRAY[n]));
    e_member := COALESCE(p_members, array_fill(NULL::varchar, ARRAY[n]));
    IF cardinality(e_kind) IS DISTINCT FROM n OR cardinality(e_member) IS DISTINCT FROM n
       OR EXISTS (SELECT 1 FROM unnest(e_kind) AS t(kd) WHERE t.kd IS NULL OR t.kd NOT IN ('user', 'org')) THEN
      RAISE EXCEPTION 'credits_take_events: every event needs an account kind (user or org), and a member or NULL';
    END IF;
    -- The accounts by (kind, owner id): a user and an organisation may have the same id.
    SELECT array_agg(DISTINCT t.kd || ':' || t.x ORDER BY t.kd || ':' || t.x) INTO u_id FROM unnest(e_kind, e_user) AS t(kd, x);
    SELECT array_agg(u.ord::int ORDER BY e.ord) INTO e_u
      FROM unnest(e_kind, e_user) WITH ORDINALITY AS e(kind, user_id, ord)
      JOIN unnest(u_id) WITH ORDINALITY AS u(user_id, ord) ON u.user_id = e.kind || ':' || e.user_id;
    SELECT array_agg(split_part(x, ':', 1) ORDER BY o), array_agg(substr(x, strpos(x, ':') + 1) ORDER BY o)
      INTO u_kind, u_owner FROM unnest(u_id) WITH ORDINALITY AS t(x, o);

    -- Every account of the batch, locked in id order: one account's movements serialise with all
    -- others (single routes lock the same row), and two batches take their locks in the same order.
    -- The settings are read under the lock.
    -- The accounts the events name (by p_account_kind and owner id), locked; the engine works on their ids.
    -- credit_account_of()'s lookups written out: called per account it was a function call each
    -- (about a tenth of a 1,000-event batch's take); a join instead was planned as a sequential scan
    -- of every account. A subquery per account is an index lookup whatever the plan.
    SELECT array_agg(CASE u.kind WHEN 'user' THEN (SELECT a.account_id FROM accounts a WHERE a.user_id = u.owner)
                                 WHEN 'org' THEN (SELECT a.account_id FROM accounts a WHERE a.org_id = u.owner) END
                     ORDER BY u.ord) INTO u_acc
      FROM unnest(u_kind, u_owner) WITH ORDINALITY AS u(kind, owner, ord);
    SELECT array_agg(l.id IS NOT NULL ORDER BY u.ord), array_agg(l.id ORDER BY u.ord) INTO u_known, u_acc
      FROM unnest(u_acc) WITH ORDINALITY AS u(account_id, ord)
      LEFT JOIN credits_lock_account_ids(array_remove(u_acc, NULL)) AS l(id) ON l.id = u.account_id;
    -- The organisations' members of the batch, read under their organisation's lock: whether each is
    -- active, their limit and what they spent in its period (as credits_take() reads them).
    SELECT array_agg(d.u ORDER BY d.u, d.member), array_agg(d.member ORDER BY d.u, d.member) INTO m_u, m_member
      FROM (SELECT DISTINCT e.u, e.member FROM unnest(e_u, e_member) AS e(u, member) WHERE e.member IS NOT NULL) d
     WHERE u_kind[d.u] = 'org';
    IF m_u IS NOT NULL THEN
      SELECT array_agg(m.ord::int ORDER BY e.ord) INTO e_m
        FROM unnest(e_u, e_member) WITH ORDINALITY AS e(u, member, ord)
        LEFT JOIN unnest(m_u, m_member) WITH ORDINALITY AS m(u, member, ord) ON m.u = e.u AND m.member = e.member;
      SELECT array_agg(om.user_id IS NOT NULL AND om.removed_at IS NULL ORDER BY m.ord),
             array_agg(om.spend_limit ORDER BY m.ord), array_agg(om.spend_limit_period ORDER BY m.ord),
             array_agg(CASE WHEN om.spend_limit IS NULL THEN 0
                            ELSE org_member_spent(om.org_id, om.user_id, om.spend_limit_period, now()) END ORDER BY m.ord)
        INTO m_active, m_limit, m_period, m_before
        FROM unnest(m_u, m_member) WITH ORDINALITY AS m(u, member, ord)
        LEFT JOIN org_members om ON om.org_id = u_owner[m.u] AND om.user_id = m.member;
      m_spent := m_before;
      m_added := array_fill(0::bigint, ARRAY[cardinality(m_u)]);
    ELSE
      e_m := array_fill(NULL::integer, ARRAY[n]);
    END IF;
    SELECT array_agg(COALESCE(c.max_credits_per_hour, p_rate_default) ORDER BY u.ord),
           array_agg(credit_headroom(c.overdraft_limit, c.debt) ORDER BY u.ord),
           array_agg(0::bigint ORDER BY u.ord), array_agg(COALESCE(c.spend_minute, 0) ORDER BY u.ord),
           array_agg(0::bigint ORDER BY u.ord), array_agg(false ORDER BY u.ord),
           bool_or(c.recharge_below IS NOT NULL)
      INTO u_limit, u_head, u_debt, u_minute, u_used, u_rated, v_recharge
      FROM unnest(u_acc) WITH ORDINALITY AS u(account_id, ord)
      LEFT JOIN credit_accounts c ON c.account_id = u.account_id;
    u_added := array_fill(0::bigint, ARRAY[cardinality(u_id)]);
    IF EXISTS (SELECT 1 FROM unnest(u_limit) x WHERE x IS NOT NULL) THEN
      -- What each limited user spent in the last hour, read as credits_take() reads the window.
      SELECT array_agg(COALESCE((SELECT sum(x) FROM unnest(credit_spend_window(c.spend_window, c.spend_minute, v_minute)) x),
                                0)::bigint ORDER BY u.ord)
        INTO u_used
        FROM unnest(u_acc, u_limit) WITH ORDINALITY AS u(account_id, lim, ord)
        LEFT JOIN credit_accounts c ON c.account_id = u.account_id AND u.lim IS NOT NULL;
    END IF;
    -- The caller's key budget, as credits_take() reads it; the key row locked, so two batches through
    -- one key (an ingest key records for many users) decide against each other's spend.
    SELECT k.credit_limit, k.limit_period INTO v_key_limit, v_key_period
      FROM api_keys k WHERE k.id = p_api_key_id AND k.credit_limit IS NOT NULL FOR NO KEY UPDATE;
    IF v_key_limit IS NOT NULL THEN
      v_key_start := credit_key_period_start(v_key_period, now());
      v_key_spent := credit_key_spent(p_api_key_id, v_key_period);
    END IF;

    -- The users' live allocations, locked, soonest-expiring first (ties: oldest), grouped by user.
    SELECT array_agg(f.out_id ORDER BY f.ord), array_agg(f.out_remaining ORDER BY f.ord),
           array_agg(u.ord::int ORDER BY f.ord)
      INTO a_id, a_rem, a_u
      FROM credit_allocations_fifo(u_acc) WITH ORDINALITY AS f(out_id, out_account_id, out_remaining, ord)
      JOIN unnest(u_acc) WITH ORDINALITY AS u(account_id, ord) ON u.account_id = f.out_account_id;
    a_id := COALESCE(a_id, '{}'); a_rem := COALESCE(a_rem, '{}');
    -- Each user's first allocation and balance.
    SELECT array_agg(COALESCE(g.first, 0) ORDER BY u.ord), array_agg(COALESCE(g.last, 0) ORDER BY u.ord),
           array_agg(COALESCE(g.total, 0) ORDER BY u.ord)
      INTO u_ptr, u_last, u_avail
      FROM generate_series(1, cardinality(u_id)) AS u(ord)
      LEFT JOIN (SELECT a.u, min(a.i)::int AS first, max(a.i)::int AS last, sum(a.rem)::bigint AS total
                   FROM unnest(a_u, a_rem) WITH ORDINALITY AS a(u, rem, i)
                  GROUP BY a.u) g ON g.u = u.ord;

    e_status := array_fill(NULL::varchar, ARRAY[n]);
    e_collected := array_fill(0::bigint, ARRAY[n]); e_debt := e_collected; e_balance := e_collected;
    e_before := e_collected; e_retry := array_fill(NULL::integer, ARRAY[n]);
    FOR i IN 1 .. n LOOP
      u := e_u[i];
      IF NOT u_known[u] THEN e_status[i] := 'no_account'; CONTINUE; END IF;
      mi := e_m[i];
      IF mi IS NOT NULL AND NOT m_active[mi] THEN e_status[i] := 'not_a_member'; CONTINUE; END IF;
      v_amount := e_amount[i];
      -- The one decision, as credits_take() asks it: the key's budget, the member's limit (what they
      -- spent in its period, this batch's events before included), then the hourly window (what the
      -- stored buckets hold for the last hour plus what this batch has spent this minute), then the
      -- balance and the overdraft headroom left by the events before.
      v_status := credit_decide(true, v_amount, v_amount, ARRAY['key_limit', 'member_limit', 'rate_limited']::varchar[],
                                ARRAY[v_key_spent, COALESCE(m_spent[mi], 0), u_used[u]],
                                ARRAY[v_key_limit, m_limit[mi], u_limit[u]]::bigint[], u_avail[u], u_head[u]);
      IF v_status <> 'ok' THEN
        e_status[i] := v_status;
        IF v_status = 'rate_limited' THEN
          -- The window the retry is read from: the stored buckets still in the hour, and what this batch
          -- has spent this minute.
          SELECT credit_spend_window(c.spend_window, c.spend_minute, v_minute) INTO w
            FROM (SELECT 1) one LEFT JOIN credit_accounts c ON c.account_id = u_acc[u];
          w[(v_minute % 60) + 1] := w[(v_minute % 60) + 1] + u_added[u];
          e_retry[i] := credit_spend_retry_after(w, v_minute, v_amount, u_limit[u]);
        ELSIF v_status = 'insufficient' THEN
          e_balance[i] := u_avail[u] + u_head[u];
        END IF;
        CONTINUE;
      END IF;
      v_bal := u_avail[u];
      e_before[i] := v_bal;
      -- FIFO over the user's allocations still holding credits (from u_ptr), as credits_take() walks.
      v_parts := credit_fifo_walk(a_rem[u_ptr[u]:u_last[u]], LEAST(v_amount, v_bal));
      FOR k IN 1 .. cardinality(v_parts) LOOP
        j := u_ptr[u] + k - 1;
        a_rem[j] := a_rem[j] - v_parts[k];
        v_bal := v_bal - v_parts[k];
        l_n := l_n + 1;
        l_user[l_n] := u_acc[u]; l_alloc[l_n] := a_id[j]; l_kind[l_n] := 'debit'; l_amount[l_n] := -v_parts[k];
        l_balance[l_n] := v_bal; l_record[l_n] := e_record[i]; l_member[l_n] := e_member[i];
      END LOOP;
      WHILE u_ptr[u] BETWEEN 1 AND u_last[u] AND a_rem[u_ptr[u]] = 0 LOOP
        u_ptr[u] := u_ptr[u] + 1;
      END LOOP;
      v_od := v_amount - (u_avail[u] - v_bal);
      IF v_od > 0 THEN
        l_n := l_n + 1;
        l_user[l_n] := u_acc[u]; l_alloc[l_n] := NULL; l_kind[l_n] := 'overdraft'; l_amount[l_n] := -v_od;
        l_balance[l_n] := v_bal; l_record[l_n] := e_record[i]; l_member[l_n] := e_member[i];
        u_head[u] := u_head[u] - v_od;
        u_debt[u] := u_debt[u] + v_od;
        v_debts := true;
      END IF;
      u_avail[u] := v_bal;
      e_status[i] := 'ok'; e_collected[i] := v_amount - v_od; e_debt[i] := v_od; e_balance[i] := v_bal;
      IF u_limit[u] IS NOT NULL AND v_amount > 0 THEN
        u_added[u] := u_added[u] + v_amount;
        u_used[u] := u_used[u] + v_amount; u_rated[u] := true; v_rated := true;
      END IF;
      IF v_key_limit IS NOT NULL THEN
        PERFORM credit_key_limit_event(u_acc[u], p_api_key_id, v_key_limit, v_key_period, v_key_spent, v_amount);
        v_key_spent := v_key_spent + v_amount; v_key_charged := v_key_charged + v_amount; v_key_used := true;
      END IF;
      IF mi IS NOT NULL AND v_amount > 0 THEN
        PERFORM org_member_limit_event(u_owner[u], e_member[i], m_limit[mi], m_period[mi], m_spent[mi], v_amount);
        m_spent[mi] := m_spent[mi] + v_amount; m_added[mi] := m_added[mi] + v_amount;
      END IF;
    END LOOP;

    PERFORM credit_ledger_write(l_user, l_alloc, l_kind, l_amount, l_balance, l_record, NULL, p_api_key_id, p_created_by,
                                l_member);
    -- What follows writes only when there is something to write: each statement costs its start-up
    -- whether or not it finds rows, and a few events' batch (records that arrive together) pays them
    -- all for a handful of records.
    -- The members' counters, once per member with what their events added.
    IF m_u IS NOT NULL THEN
      PERFORM org_member_spend_add(u_owner[m.u], m.member, (now() AT TIME ZONE 'UTC')::date, m.added)
         FROM unnest(m_u, m_member, m_added) AS m(u, member, added) WHERE m.added > 0;
    END IF;
    IF v_debts THEN
    INSERT INTO credit_accounts AS c (account_id, user_id, debt)
    SELECT d.account_id, a.user_id, d.debt FROM unnest(u_acc, u_debt, u_rated) AS d(account_id, debt, rated)
      JOIN accounts a ON a.account_id = d.account_id WHERE d.debt > 0 AND NOT d.rated
    ON CONFLICT (account_id) DO UPDATE SET debt = c.debt + EXCLUDED.debt, updated_at = now();
    END IF;
    IF v_rated THEN
    INSERT INTO credit_accounts AS c (account_id, user_id, debt, spend_minute, spend_window)
    SELECT d.account_id, a.user_id, d.debt, v_minute,
           (SELECT array_agg((CASE WHEN s.slot = (v_minute % 60) + 1 THEN d.added ELSE 0 END)::int ORDER BY s.slot)
              FROM generate_series(1, 60) AS s(slot))
      FROM unnest(u_acc, u_debt, u_rated, u_added) AS d(account_id, debt, rated, added)
      JOIN accounts a ON a.account_id = d.account_id WHERE d.rated
    ON CONFLICT (account_id) DO UPDATE
      SET debt = c.debt + EXCLUDED.debt, spend_minute = EXCLUDED.spend_minute,
          -- the stored buckets still in the hour, plus what this batch spent this minute
          spend_window = (SELECT array_agg(x.kept + x.added ORDER BY x.slot)
                            FROM unnest(credit_spend_window(c.spend_window, c.spend_minute, v_minute), EXCLUDED.spend_window)
                                 WITH ORDINALITY AS x(kept, added, slot)),
          updated_at = now();
    END IF;
    IF v_key_used THEN
      -- The events' limit_reached were sent in their order above; the spend is counted once.
      PERFORM credit_key_spend_add(NULL, p_api_key_id, v_key_limit, v_key_period, v_key_start, 0, v_key_charged);
    END IF;

    -- The balance alerts, in the order the movements happened, decided by credit_balance_alerts() as
    -- for a single take (it also keeps which thresholds are armed).
    PERFORM credit_balance_alerts(mv.account_id, mv.before, mv.after, mv.thresholds)
       FROM (SELECT u_acc[e.u] AS account_id, e.before, e.after, COALESCE(c.low_balance_thresholds, p_thresholds) AS thresholds
               FROM unnest(e_u, e_before, e_balance, e_status) WITH ORDINALITY AS e(u, before, after, status, ord)
               LEFT JOIN credit_accounts c ON c.account_id = u_acc[e.u]
              WHERE e.status = 'ok' AND e.after < e.before
              ORDER BY e.ord) mv
      -- only the movements that cross a threshold or reach 0: for the others the function does nothing
      WHERE (mv.before > 0 AND mv.after <= 0) OR EXISTS (SELECT 1 FROM unnest(mv.thresholds) t WHERE mv.before >= t AND mv.after < t);
    IF v_recharge THEN
    PERFORM auto_recharge_check(b.account_id, b.avail) FROM unnest(u_acc, u_avail) WITH ORDINALITY AS b(account_id, avail, u) JOIN credit_accounts c ON c.account_id = b.account_id AND c.recharge_below > b.avail WHERE EXISTS (SELECT 1 FROM unnest(e_u, e_status, e_collected, e_debt) AS e(u, status, taken, debt) WHERE e.u = b.u AND e.status = 'ok' AND e.taken + e.debt > 0);
    END IF;

    RETURN QUERY
      SELECT g.i, e_status[g.i],
             e_record[g.i],
             e_collected[g.i], e_debt[g.i], e_balance[g.i], e_retry[g.i]
        FROM generate_series(1, n) AS g(i);
  END $function$;
