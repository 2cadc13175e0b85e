CREATE OR REPLACE FUNCTION public.credit_budget_caps(p_account_ids bigint[], p_scopes jsonb[], OUT out_from integer[], OUT out_to integer[],
    OUT out_caps integer[], OUT out_id bigint[], OUT out_name character varying[], OUT out_limit bigint[], OUT out_start timestamp with time zone[],
    OUT out_spent bigint[], OUT out_added bigint[], OUT out_account bigint[])
 RETURNS record
 LANGUAGE plpgsql
 STABLE
 SET enable_seqscan TO 'off'
 SET plan_cache_mode TO 'force_generic_plan'
AS $function$
  -- The budgets a take's events name (docs/budgets.md), for credits_take_events() under the accounts'
  -- locks: event i of account p_account_ids[i] (NULL: none) names scopes p_scopes[i] (NULL: none).
  -- Its one row (a record, not a set: a take calls it as an expression, with no statement of its own):
  -- every budget once (out_id, its budgetId, limit, period start, what it used and held in the
  -- period, 0 added so far, its account), and per event the positions of its budgets in refusal order,
  -- out_caps[out_from[i] .. out_to[i]] (out_from[i] NULL: none): the project's chain, the tags' in
  -- their order, the run's, then the session's, each budget followed by its ancestors (a chain holds
  -- at most 5), each once. A budget expired now refuses nothing and counts nothing, but its parents
  -- still apply. The one walk of a chain: a hold reads the budgets it counted against here, and a
  -- budget's room on the budgets routes is its chain's least here too. Made by lookups by key: a scope
  -- costs one probe, a parent already read none (a run under its project's budget reads the project
  -- once), with no row per budget: a set-returning walk's call and rows cost a budgeted record as much
  -- as the lookups themselves (docs/benchmarks.md "What budgets cost the record").
  -- A budget's period never changes (a PATCH changes its limit and expiry), so what it used and held
  -- is its row's own counter, `spent` of the period starting at `spent_start` (another period's: 0),
  -- read with the budget by the same lookup. Sequential scans are off: every read here is a lookup
  -- by key, and a session keeps the plans it made while the table was small or its statistics were
  -- an empty table's, where a scan looked cheapest.
  -- A batch (events that arrived together) reads its named scopes' budgets by one statement, a
  -- lookup by key a scope within it, its rows in event then refusal order, each walked as a lookup's
  -- (a parent not named, by a lookup of its own); a batch of one too. Its plan is the generic one: a
  -- custom plan, made afresh at every call, would cost more than the lookups it saves. A budget is
  -- looked for among those already read only when an earlier event of the batch is of the same account.
  DECLARE
    b record;
    v_seen varchar[];
    v_depth integer;
    v_ev integer := 0;
    bk integer;
  BEGIN
    out_from := array_fill(NULL::integer, ARRAY[cardinality(p_scopes)]); out_to := out_from; out_caps := '{}';
    out_id := '{}'; out_name := '{}'; out_limit := '{}'; out_start := '{}'; out_spent := '{}'; out_account := '{}';
    FOR b IN SELECT e.ev::int AS ev, c.id, c.budget_id, c.parent_budget_id, c.credit_limit, c.expires_at,
                    credit_key_period_start(c.period, now()) AS start, c.spent, c.spent_start, c.account_id,
                    array_position(p_account_ids, e.acc) = e.ev AS first -- no earlier event of its account
               FROM unnest(p_account_ids, p_scopes) WITH ORDINALITY AS e(acc, sc, ev)
              CROSS JOIN LATERAL (SELECT 1, 0::bigint, 'project'::varchar, e.sc ->> 'project'
                                  UNION ALL
                                  SELECT 2, t.i, 'tag', t.v
                                    FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(e.sc -> 'tag') = 'array' THEN e.sc -> 'tag' END)
                                         WITH ORDINALITY AS t(v, i)
                                  UNION ALL
                                  SELECT 3, 0, 'run', e.sc ->> 'run'
                                  UNION ALL
                                  SELECT 4, 0, 'session', e.sc ->> 'session') s(grp, pos, kind, sid)
              CROSS JOIN LATERAL (SELECT * FROM credit_budgets c
                                   WHERE c.account_id = e.acc AND c.scope_kind = s.kind AND c.scope_id = s.sid OFFSET 0) c
              -- (the scopes in refusal order, each a lookup by key: OFFSET 0 keeps it one, not a join the
              -- generic plan would make by hashing an account's every budget)
              ORDER BY e.ev, s.grp, s.pos LOOP
      IF b.ev <> v_ev THEN v_ev := b.ev; v_seen := '{}'; END IF;
      v_depth := 0;
      LOOP
        IF NOT b.budget_id = ANY (v_seen) THEN
          v_seen := v_seen || b.budget_id;
          IF b.expires_at IS NULL OR b.expires_at > now() THEN
            bk := CASE WHEN NOT b.first THEN array_position(out_id, b.id) END;
            IF bk IS NULL THEN
              out_id := out_id || b.id; out_name := out_name || b.budget_id; out_limit := out_limit || b.credit_limit;
              out_start := out_start || b.start; out_account := out_account || b.account_id;
              out_spent := out_spent || CASE WHEN b.spent_start = b.start THEN b.spent ELSE 0 END;
              bk := cardinality(out_id);
            END IF;
            out_caps := out_caps || bk;
            out_from[v_ev] := COALESCE(out_from[v_ev], cardinality(out_caps)); out_to[v_ev] := cardinality(out_caps);
          END IF;
        END IF;
        -- A parent already read had its own parents read after it, and the depth bound never cuts a
        -- chain of 5.
        EXIT WHEN b.parent_budget_id IS NULL OR b.parent_budget_id = ANY (v_seen) OR v_depth = 4;
        v_depth := v_depth + 1;
        SELECT v_ev AS ev, c.id, c.budget_id, c.parent_budget_id, c.credit_limit, c.expires_at,
               credit_key_period_start(c.period, now()) AS start, c.spent, c.spent_start, c.account_id, b.first AS first INTO b
          FROM credit_budgets c
         WHERE c.budget_id = b.parent_budget_id AND c.account_id = b.account_id;
        EXIT WHEN b.id IS NULL;
      END LOOP;
    END LOOP;
    out_added := array_fill(0::bigint, ARRAY[cardinality(out_id)]);
  END $function$;
