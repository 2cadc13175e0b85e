CREATE OR REPLACE FUNCTION public.credits_hold(p_account_ids bigint[], p_amounts integer[], p_sessions character varying[], p_created_bys character varying[],
    p_api_key_id uuid, p_rate_default integer, p_thresholds integer[], p_members character varying[] DEFAULT NULL::character varying[],
    p_scopes jsonb[] DEFAULT NULL::jsonb[])
 RETURNS TABLE(out_ord integer, out_status character varying, out_available bigint, out_headroom bigint, out_collected bigint, out_debt bigint,
    out_balance_after bigint, out_parts jsonb, out_retry_after integer)
 LANGUAGE plpgsql
AS $function$
  DECLARE
    n integer := COALESCE(cardinality(p_account_ids), 0);
    v_members varchar[]; v_plain boolean; v_any_plain boolean; v_any_member boolean;
    r_status varchar[]; r_avail bigint[]; r_head bigint[]; r_coll bigint[]; r_debt bigint[]; r_bal bigint[];
    r_parts jsonb[]; r_retry integer[];
    v_ok integer; v_first integer; v_written integer := 0; v_rows integer; i integer; r_ord integer[];
  -- Holds for streaming sessions, a batch in array order (a single hold is a batch of one): hold i of
  -- p_amounts[i] credits on account p_account_ids[i] for session p_sessions[i], written by
  -- p_created_bys[i], all through the key p_api_key_id (null: none); one row per hold, out_ord its
  -- position. An organisation's hold names the member (p_members[i]; null for a user's account): it
  -- counts against their limit like a debit (credits_take_events()), and its settlement gives the
  -- unused part back off their counter; the hold row names the member as its member_id, as the ledger
  -- lines do. A hold naming budget scopes (p_scopes[i], docs/budgets.md) counts as held against their
  -- budgets; its row keeps them and the budgets it counted against, with their periods, so its
  -- settlement gives the unused part back. The holds are ONE take, each decided after the ones before
  -- it, as if each were alone; a refused hold writes nothing and the later ones still apply.
  -- A hold row that cannot be written (its session held on that account already and settled, or an
  -- organisation's) fails the whole call with a unique violation, as does one session held twice on
  -- one account in one call (ON CONFLICT's cardinality violation): nothing is written, and a caller
  -- that sent several holds sends them again one at a time (src/database/coalescer.ts).
  BEGIN
    IF n = 0 THEN RETURN; END IF;
    v_members := COALESCE(p_members, array_fill(NULL::varchar, ARRAY[n]));
    IF cardinality(p_amounts) IS DISTINCT FROM n OR cardinality(p_sessions) IS DISTINCT FROM n
       OR cardinality(p_created_bys) IS DISTINCT FROM n OR cardinality(v_members) <> n
       OR cardinality(p_scopes) <> n THEN
      RAISE EXCEPTION 'credits_hold: every hold needs an account, an amount, a session and a writer';
    END IF;
    IF array_position(p_sessions, NULL) IS NOT NULL THEN
      RAISE EXCEPTION 'credits_hold: a hold needs a session';
    END IF;
    -- A member's open session counts at least one credit against their limit while it is open (below),
    -- which the take does not count between the holds of one call: a call with two zero-estimate holds
    -- of one member on one account holds one at a time, so the second sees the first's credit.
    IF n > 1 AND 0 = ANY (p_amounts) AND p_members IS NOT NULL
       AND EXISTS (SELECT 1 FROM unnest(p_account_ids, p_amounts, v_members) AS x(acc, amount, member)
                    WHERE x.amount = 0 AND x.member IS NOT NULL GROUP BY x.acc, x.member HAVING count(*) > 1) THEN
      RETURN QUERY
        SELECT x.k::int, h.out_status, h.out_available, h.out_headroom, h.out_collected, h.out_debt,
               h.out_balance_after, h.out_parts, h.out_retry_after
          FROM generate_subscripts(p_account_ids, 1) AS x(k),
               LATERAL credits_hold(ARRAY[p_account_ids[x.k]], ARRAY[p_amounts[x.k]], ARRAY[p_sessions[x.k]],
                                    ARRAY[p_created_bys[x.k]], p_api_key_id, p_rate_default, p_thresholds,
                                    ARRAY[v_members[x.k]], ARRAY[p_scopes[x.k]]) h
         ORDER BY x.k;
      RETURN;
    END IF;
    IF cardinality(array_remove(p_scopes, NULL)) = 0 THEN p_scopes := NULL; END IF;
    -- The one take: every hold a strict take of kind hold, each with its writer; its rows kept in
    -- arrays side by side, r_ord[k] the hold of the k-th (one aggregation, no cursor).
    SELECT array_agg(t.out_ord), array_agg(t.out_status), array_agg(t.out_available), array_agg(t.out_headroom),
           array_agg(t.out_collected), array_agg(t.out_debt),
           array_agg(CASE WHEN t.out_status = 'ok' THEN t.out_balance ELSE t.out_available END),
           array_agg(t.out_parts), array_agg(t.out_retry_after)
      INTO r_ord, r_status, r_avail, r_head, r_coll, r_debt, r_bal, r_parts, r_retry
      FROM credits_take_events(p_created_bys[1], p_api_key_id, p_rate_default, p_thresholds, p_account_ids, p_amounts,
                               array_fill(NULL::uuid, ARRAY[n]), v_members, array_fill('hold'::varchar, ARRAY[n]),
                               array_fill('strict'::varchar, ARRAY[n]), p_sessions, p_scopes => p_scopes,
                               p_created_bys => p_created_bys) t;
    v_ok := cardinality(array_positions(r_status, 'ok'));
    v_first := r_ord[array_position(r_status, 'ok')];
    IF v_ok > 0 THEN
      -- The hold rows of the holds that happened: the key each was made through (its settlement's lines
      -- and overrun are the key's too), and the key's period as the take just counted it, so a
      -- settlement gives the unused part back to that period only (a hold without a key reads no
      -- counter). In two statements by whether a hold names budget scopes: one statement for both
      -- planned every call afresh (its custom plan drops the budgets' walk without scopes), about a
      -- tenth of a gateway hold's time in the planner. An organisation's session ids are its
      -- members' (unique per member, not per account): a hold row of the org for this id is another
      -- member's session (or an earlier one), never topped up; a user's open one is (the holds
      -- without a member and those with one are written apart, v_plain, when a call has both).
      v_any_member := p_members IS NOT NULL AND cardinality(array_remove(p_members, NULL)) > 0;
      v_any_plain := array_position(v_members, NULL) IS NOT NULL;
      FOREACH v_plain IN ARRAY ARRAY[true, false] LOOP
        CONTINUE WHEN (v_plain AND NOT v_any_plain) OR (NOT v_plain AND NOT v_any_member);
        IF p_scopes IS NULL THEN
          INSERT INTO credit_holds AS h (session_id, account_id, member_id, outstanding, api_key_id, key_period_start)
          SELECT x.session_id, a.account_id, COALESCE(a.user_id, x.member), x.amount, p_api_key_id,
                 CASE WHEN p_api_key_id IS NOT NULL
                      THEN (SELECT max(s.period_start) FROM credit_cap_spend s
                             WHERE s.subject_kind = 'key' AND s.subject_id = p_api_key_id::varchar AND s.account_id = 0) END
            FROM (SELECT p_account_ids[o.ord] AS account_id, p_amounts[o.ord] AS amount, p_sessions[o.ord] AS session_id,
                         v_members[o.ord] AS member, o.status
                    FROM unnest(r_ord, r_status) AS o(ord, status)) x
            JOIN accounts a ON a.account_id = x.account_id
           WHERE x.status = 'ok' AND (x.member IS NULL) = v_plain
          ON CONFLICT (session_id, account_id) DO UPDATE SET outstanding = h.outstanding + EXCLUDED.outstanding
           WHERE h.settled_at IS NULL AND v_plain;
        ELSE
          INSERT INTO credit_holds AS h (session_id, account_id, member_id, outstanding, api_key_id, key_period_start, scopes,
                                         budget_ids, budget_starts)
          SELECT x.session_id, a.account_id, COALESCE(a.user_id, x.member), x.amount, p_api_key_id,
                 CASE WHEN p_api_key_id IS NOT NULL
                      THEN (SELECT max(s.period_start) FROM credit_cap_spend s
                             WHERE s.subject_kind = 'key' AND s.subject_id = p_api_key_id::varchar AND s.account_id = 0) END,
                 x.scopes, b.ids, b.starts
            FROM (SELECT p_account_ids[o.ord] AS account_id, p_amounts[o.ord] AS amount, p_sessions[o.ord] AS session_id,
                         v_members[o.ord] AS member, o.status, p_scopes[o.ord] AS scopes, o.ord
                    FROM unnest(r_ord, r_status) AS o(ord, status)) x
            JOIN accounts a ON a.account_id = x.account_id
            CROSS JOIN credit_budget_caps(p_account_ids, p_scopes) c
            -- the budgets the take counted each hold against (credit_budget_caps(), the take's own walk), in its order
            LEFT JOIN LATERAL (SELECT array_agg(c.out_id[k.k] ORDER BY k.o) AS ids, array_agg(c.out_start[k.k] ORDER BY k.o) AS starts
                                 FROM unnest(c.out_caps[c.out_from[x.ord]:c.out_to[x.ord]]) WITH ORDINALITY AS k(k, o)) b
                   ON c.out_from[x.ord] IS NOT NULL
           WHERE x.status = 'ok' AND (x.member IS NULL) = v_plain
          ON CONFLICT (session_id, account_id) DO UPDATE SET outstanding = h.outstanding + EXCLUDED.outstanding
           WHERE h.settled_at IS NULL AND v_plain;
        END IF;
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        v_written := v_written + v_rows;
      END LOOP;
      IF v_written < v_ok THEN
        IF v_ok > 1 THEN
          RAISE EXCEPTION 'credits_hold: a session of the call has a hold already' USING ERRCODE = 'unique_violation';
        END IF;
        RAISE EXCEPTION 'credits_hold: session % of % has a hold already', p_sessions[v_first], p_account_ids[v_first]
          USING ERRCODE = 'unique_violation';
      END IF;
      -- A member's open session counts at least one credit against their limit while it is open (its
      -- settlement gives it back, credits_settle()): zero-estimate sessions would otherwise all pass a
      -- used-up limit's check together and each overrun it at settlement.
      IF v_any_member AND 0 = ANY (p_amounts) THEN
        PERFORM credit_cap_spend_add('member', array_agg(x.member), array_agg(x.account_id),
                                     date_trunc('day', now(), 'UTC'), array_agg(1::bigint))
           FROM (SELECT p_account_ids[o.ord] AS account_id, p_amounts[o.ord] AS amount, v_members[o.ord] AS member, o.status
                   FROM unnest(r_ord, r_status) AS o(ord, status)) x
          WHERE x.status = 'ok' AND x.amount = 0 AND x.member IS NOT NULL
         HAVING count(*) > 0;
      END IF;
    END IF;
    FOR i IN 1 .. n LOOP
      out_ord := r_ord[i]; out_status := r_status[i]; out_available := r_avail[i]; out_headroom := r_head[i];
      out_collected := r_coll[i]; out_debt := r_debt[i]; out_balance_after := r_bal[i];
      out_parts := r_parts[i]; out_retry_after := r_retry[i];
      RETURN NEXT;
    END LOOP;
  END $function$;
