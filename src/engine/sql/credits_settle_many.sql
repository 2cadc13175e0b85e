CREATE OR REPLACE FUNCTION public.credits_settle_many(p_account_ids bigint[], p_session_ids character varying[], p_charges integer[],
    p_created_by character varying[], p_usage_record_ids uuid[], p_rate_default integer, p_thresholds integer[],
    p_member_ids character varying[] DEFAULT NULL::character varying[], p_volumes jsonb[] DEFAULT NULL::jsonb[])
 RETURNS TABLE(out_ord integer, out_status character varying, out_held bigint, out_kept bigint, out_refund bigint, out_collected bigint, out_debt bigint,
    out_shortfall bigint, out_released bigint, out_expired bigint, out_voided bigint, out_charge integer, out_volume_step integer)
 LANGUAGE plpgsql
AS $function$
  -- Settlements that arrive together (docs/money.md "Finalizes that arrive together"), one per
  -- position of the arrays: every account they name is locked once, in account id order, before any
  -- of them settles, so two such statements never deadlock and one account's settlements wait for its
  -- lock once a statement. out_ord: the position. p_member_ids and p_volumes may be NULL for none.
  --
  -- Those whose hold covers the charge (an open hold, the charge at most what it holds, no volume
  -- steps, no budgets: what a finalize almost always is) are settled together, with the answers
  -- credits_settle() would give each alone: what each holds beyond its charge given back to the
  -- allocations it came from, latest expiry first (dead or frozen credits leave again at once), in
  -- one read of the sessions' hold lines and one call of the ledger's writer for all their lines
  -- (each line names its session and key); the keys' and members' counters moved in one call a
  -- period; the holds marked settled in one statement. Each settlement's own statements (the hold
  -- read, the give-back read, the writer, the counters, the hold's update: a chain of calls a
  -- session) were most of a finalize's CPU in PostgreSQL, and settlements that arrive together shared
  -- only the statement around them (docs/benchmarks.md "The pair counted in instructions").
  -- The rest (an overrun, no hold, a hold settled before, volume steps, budgets, a session named twice)
  -- are then settled one by one by credits_settle(), in array order, exactly as alone.
  DECLARE
    k integer;
    v_ords integer[];          -- the positions settled together
    v_held bigint[];           -- each one's hold: what it held, what goes back
    v_refunds bigint[];
    v_keys uuid[];             -- the key it counted against, from the period start it counted in
    v_key_starts timestamptz[];
    v_day_back bigint[];       -- what goes back to its member's day (0: nothing), and that day
    v_days timestamptz[];
    v_rest integer[];          -- the positions settled one by one
    l_ords integer[];
    l_accounts bigint[];
    l_allocations uuid[];
    l_kinds varchar[];
    l_amounts integer[];
    l_balances bigint[];
    l_values bigint[];
    l_records uuid[];
    l_members varchar[];
    l_writers varchar[];
    l_sessions varchar[];
    l_keys uuid[];
    v_backs integer;           -- the settlements that give credits back
    v_complete integer;        -- those whose lines give back their whole refund
    v_short bigint;            -- what the first of the others holds less than its refund
    r record;
  BEGIN
    -- A settlement alone is one of the rest: credits_settle() itself, which locks its account. Its
    -- chain of statements costs less than the statements over the batch's arrays for one settlement
    -- (a streaming pair in PostgreSQL: 10.30 against 10.95 million instructions), about the same for
    -- two, and less from three on (ten initializes and their ten finalizes a statement: 4.28 against
    -- 5.29 million a pair; bench/pair-callgrind.sh, docs/benchmarks.md "The pair counted in
    -- instructions").
    IF cardinality(p_account_ids) = 1 THEN
      v_rest := '{1}';
    ELSE
      PERFORM 1 FROM credits_lock_account_ids(p_account_ids);
      -- The holds, read and locked in one statement (the LIMIT never cuts a row: the kept plan expects a
      -- row or so, a lookup by key, as the ledger writer's statements do).
      SELECT array_agg(s.ord ORDER BY s.ord) FILTER (WHERE s.together),
             array_agg(s.outstanding::bigint ORDER BY s.ord) FILTER (WHERE s.together),
             array_agg(GREATEST(0, s.outstanding - s.charge)::bigint ORDER BY s.ord) FILTER (WHERE s.together),
             array_agg(s.api_key_id ORDER BY s.ord) FILTER (WHERE s.together),
             array_agg(s.key_period_start ORDER BY s.ord) FILTER (WHERE s.together),
             -- a hold of 0 counted one credit against the member's limit while open (credits_hold())
             array_agg(CASE WHEN p_member_ids[s.ord] IS NULL THEN 0
                            WHEN s.outstanding = 0 AND s.taken_back = 0 THEN 1
                            ELSE GREATEST(0, s.outstanding - s.charge) END::bigint ORDER BY s.ord) FILTER (WHERE s.together),
             array_agg(date_trunc('day', s.created_at, 'UTC') ORDER BY s.ord) FILTER (WHERE s.together),
             array_agg(s.ord ORDER BY s.ord) FILTER (WHERE NOT s.together),
             count(*) FILTER (WHERE s.together AND s.outstanding > s.charge)
        INTO v_ords, v_held, v_refunds, v_keys, v_key_starts, v_day_back, v_days, v_rest, v_backs
        FROM (SELECT x.ord::int AS ord, x.charge, c.outstanding, c.api_key_id, c.key_period_start, c.taken_back, c.created_at,
                     COALESCE(c.settled_at IS NULL AND c.budget_ids IS NULL AND x.charge >= 0 AND x.charge <= c.outstanding
                              AND p_volumes[x.ord] IS NULL, false)
                       AND row_number() OVER (PARTITION BY x.session_id, x.account_id ORDER BY x.ord) = 1 AS together
                FROM (SELECT * FROM unnest(p_account_ids, p_session_ids, p_charges) WITH ORDINALITY AS x(account_id, session_id, charge, ord)
                       LIMIT cardinality(p_account_ids)) x
                LEFT JOIN LATERAL (SELECT c.outstanding, c.api_key_id, c.key_period_start, c.taken_back, c.created_at, c.settled_at,
                                          c.budget_ids
                                     FROM credit_holds c WHERE c.session_id = x.session_id AND c.account_id = x.account_id
                                      FOR UPDATE) c ON true) s;
    END IF;

    IF v_backs > 0 THEN
      -- What each session still holds per allocation, latest expiry first (ties: newest allocation),
      -- given back up to its refund; a dead or frozen allocation's credits leave again at once. Each
      -- line's balance after it: its account's available balance before this statement plus the live
      -- credits given back by the lines before it (credits_give_back()'s, line by line). The lines
      -- and the balances are each made once (MATERIALIZED): inlined, the plan joined the lines under
      -- each account and made them, and read each account's balance, once a line.
      WITH back AS (
        SELECT t.ord, t.refund, t.key, p_account_ids[t.ord] AS account_id, p_session_ids[t.ord] AS session_id
          FROM unnest(v_ords, v_refunds, v_keys) AS t(ord, refund, key)
         WHERE t.refund > 0
         LIMIT cardinality(v_ords)),
      held AS (
        SELECT b.ord, b.refund, b.key, b.account_id, l.allocation_id, (-sum(l.amount))::bigint AS outstanding,
               (-sum(l.value_minor))::bigint AS held_value,
               credit_allocation_live(a.expires_at) AND a.voided_at IS NULL AS live, a.voided_at IS NOT NULL AS voided, a.frozen,
               a.expires_at, a.allocated_at
          FROM back b
          JOIN credit_ledger l ON l.session_id = b.session_id AND l.account_id = b.account_id AND l.kind IN ('hold', 'release')
          JOIN credit_allocations a ON a.id = l.allocation_id
         GROUP BY b.ord, b.refund, b.key, b.account_id, l.allocation_id, a.expires_at, a.allocated_at, a.voided_at, a.frozen
        HAVING sum(l.amount) < 0),
      given AS (
        SELECT h.*, LEAST(h.outstanding, h.refund - COALESCE(sum(h.outstanding) OVER (
                 PARTITION BY h.ord ORDER BY h.expires_at DESC, h.allocated_at DESC, h.allocation_id DESC
                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))::bigint AS give
          FROM held h),
      lines AS MATERIALIZED (
        SELECT g.ord, g.key, g.account_id, g.allocation_id, w.sub, w.kind, w.amount::int AS amount, g.expires_at, g.allocated_at,
               -- the money held for the lot that the credits kept do not take (docs/finance.md) goes back with them
               CASE WHEN w.sub = 1 THEN g.held_value - credit_value_share(g.held_value, g.outstanding - g.give, g.outstanding) END AS value,
               CASE WHEN w.sub = 1 AND g.live AND NOT g.frozen THEN g.give ELSE 0 END AS live_give,
               sum(g.give) FILTER (WHERE w.sub = 1) OVER (PARTITION BY g.ord) = g.refund AS complete
          FROM given g
         CROSS JOIN LATERAL (VALUES (1, 'release'::varchar, g.give),
                                    (2, CASE WHEN NOT g.live AND g.voided THEN 'void' WHEN NOT g.live THEN 'expire'
                                             ELSE 'freeze' END::varchar, -g.give)) AS w(sub, kind, amount)
         WHERE g.give > 0 AND (w.sub = 1 OR NOT g.live OR g.frozen)),
      balances AS MATERIALIZED (
        SELECT a.account_id, credit_available(a.account_id) AS available
          FROM (SELECT DISTINCT back.account_id FROM back) a)
      SELECT count(DISTINCT l.ord) FILTER (WHERE l.complete), array_agg(l.ord ORDER BY l.rank),
             array_agg(l.account_id ORDER BY l.rank), array_agg(l.allocation_id ORDER BY l.rank), array_agg(l.kind ORDER BY l.rank),
             array_agg(l.amount ORDER BY l.rank), array_agg(l.balance ORDER BY l.rank), array_agg(l.value ORDER BY l.rank),
             array_agg(p_usage_record_ids[l.ord] ORDER BY l.rank), array_agg(p_member_ids[l.ord] ORDER BY l.rank),
             array_agg(p_created_by[l.ord] ORDER BY l.rank), array_agg(p_session_ids[l.ord] ORDER BY l.rank),
             array_agg(l.key ORDER BY l.rank)
        INTO v_complete, l_ords, l_accounts, l_allocations, l_kinds, l_amounts, l_balances, l_values,
             l_records, l_members, l_writers, l_sessions, l_keys
        FROM (SELECT l.*, row_number() OVER o AS rank,
                     (b.available + sum(l.live_give) OVER (PARTITION BY l.account_id ORDER BY l.ord, l.expires_at DESC, l.allocated_at DESC,
                                                          l.allocation_id DESC, l.sub ROWS UNBOUNDED PRECEDING))::bigint AS balance
                FROM lines l JOIN balances b ON b.account_id = l.account_id
              WINDOW o AS (ORDER BY l.ord, l.expires_at DESC, l.allocated_at DESC, l.allocation_id DESC, l.sub)) l;
      IF v_complete < v_backs THEN
        SELECT t.ord, t.refund - t.released INTO k, v_short
          FROM (SELECT t.ord, t.refund, COALESCE((SELECT sum(l.amount) FROM unnest(l_ords, l_kinds, l_amounts) AS l(ord, kind, amount)
                                                   WHERE l.ord = t.ord AND l.kind = 'release'), 0) AS released
                  FROM unnest(v_ords, v_refunds) AS t(ord, refund)) t
         WHERE t.refund > t.released
         ORDER BY t.ord LIMIT 1;
        RAISE EXCEPTION 'credits_give_back: % credits more than session % holds', v_short, p_session_ids[k];
      END IF;
      PERFORM credit_ledger_write(l_accounts, l_allocations, l_kinds, l_amounts, l_balances, l_records, NULL, NULL, NULL,
                                  l_members, l_values, p_created_bys => l_writers, p_session_ids => l_sessions,
                                  p_api_key_ids => l_keys);
      -- back to each key's bucket of the period its hold counted in (a later period's is not touched)
      IF array_remove(v_keys, NULL) <> '{}' THEN
        FOR r IN SELECT x.start, array_agg(x.key::varchar) AS keys, array_agg(x.back) AS backs
                   FROM (SELECT t.start, t.key, -sum(t.refund)::bigint AS back
                           FROM unnest(v_keys, v_key_starts, v_refunds) AS t(key, start, refund)
                          WHERE t.key IS NOT NULL AND t.refund > 0
                          GROUP BY t.start, t.key) x
                  GROUP BY x.start LOOP
          PERFORM credit_cap_spend_add('key', r.keys, array_fill(NULL::bigint, ARRAY[cardinality(r.keys)]), r.start, r.backs);
        END LOOP;
      END IF;
    END IF;
    -- What the holds counted against their members' limits on the day they were made, back.
    IF 0 < ANY (v_day_back) THEN
      FOR r IN SELECT x.day, array_agg(x.member) AS members, array_agg(x.account_id) AS accounts, array_agg(x.back) AS backs
                 FROM (SELECT t.day, p_member_ids[t.ord] AS member, p_account_ids[t.ord] AS account_id, -sum(t.back)::bigint AS back
                         FROM unnest(v_ords, v_day_back, v_days) AS t(ord, back, day)
                        WHERE t.back > 0
                        GROUP BY t.day, p_member_ids[t.ord], p_account_ids[t.ord]) x
                GROUP BY x.day LOOP
        PERFORM credit_cap_spend_add('member', r.members, r.accounts, r.day, r.backs);
      END LOOP;
    END IF;
    IF v_ords IS NOT NULL THEN
      UPDATE credit_holds c SET outstanding = 0, settled_at = now()
        FROM (SELECT * FROM unnest(v_ords) AS t(ord) LIMIT cardinality(v_ords)) t
       WHERE c.session_id = p_session_ids[t.ord] AND c.account_id = p_account_ids[t.ord];
      RETURN QUERY
        SELECT t.ord, 'ok'::varchar, t.held, t.held - t.refund, t.refund, 0::bigint, 0::bigint, 0::bigint,
               COALESCE(m.released, 0), COALESCE(m.expired, 0), COALESCE(m.voided, 0), p_charges[t.ord], NULL::integer
          FROM unnest(v_ords, v_held, v_refunds) AS t(ord, held, refund)
          LEFT JOIN (SELECT l.ord, sum(l.amount) FILTER (WHERE l.kind = 'release')::bigint AS released,
                            sum(l.amount) FILTER (WHERE l.kind = 'expire')::bigint AS expired,
                            sum(l.amount) FILTER (WHERE l.kind = 'void')::bigint AS voided
                       FROM unnest(l_ords, l_kinds, l_amounts) AS l(ord, kind, amount)
                      GROUP BY l.ord) m ON m.ord = t.ord;
    END IF;
    FOREACH k IN ARRAY COALESCE(v_rest, '{}') LOOP
      RETURN QUERY
        SELECT k, s.out_status, s.out_held, s.out_kept, s.out_refund, s.out_collected, s.out_debt, s.out_shortfall,
               s.out_released, s.out_expired, s.out_voided, s.out_charge, s.out_volume_step
          FROM credits_settle(p_account_ids[k], p_session_ids[k], p_charges[k], p_created_by[k], p_usage_record_ids[k],
                              p_rate_default, p_thresholds, p_member_ids[k], p_volumes[k]) s;
    END LOOP;
  END $function$;
