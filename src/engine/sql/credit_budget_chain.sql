CREATE OR REPLACE FUNCTION public.credit_budget_chain(p_account_id bigint, p_scopes jsonb, p_at timestamp with time zone)
 RETURNS TABLE(ord integer, id bigint, budget_id character varying, credit_limit bigint, period character varying, period_start timestamp with time zone, spent bigint)
 LANGUAGE plpgsql
 STABLE
AS $function$
  -- The budgets a write's scopes (p_scopes: {project, tag: [..], run, session}) name on account
  -- p_account_id, each followed by its ancestors (a chain holds at most 5), every budget once, in the
  -- order a refusal names them (docs/budgets.md "No overshoot"): the project's chain, the tags' in
  -- their order, the run's, then the session's. A budget expired at p_at refuses nothing and counts
  -- nothing, but its parents still apply. With each, the start of its period at p_at and what it has
  -- used and held in that period (its credit_cap_spend bucket, credit_cap_spent()). Read by the take
  -- under the account's lock, so a child's room is the least of its chain's.
  -- A walk of lookups by key, each budget read with its counter in one statement planned once: a
  -- scope without a budget costs one probe, a budget without a parent no more. (One statement with
  -- a recursive CTE, its sorts and its window cost a budgeted record more than the rest of its take:
  -- docs/benchmarks.md "What budgets cost the record".)
  DECLARE
    b record;
    v_tags integer := CASE WHEN jsonb_typeof(p_scopes -> 'tag') = 'array' THEN jsonb_array_length(p_scopes -> 'tag') ELSE 0 END;
    v_kind varchar;
    v_sid varchar;
    v_seen varchar[] := '{}';
    v_depth integer;
  BEGIN
    ord := 0;
    IF p_account_id IS NULL OR p_scopes IS NULL THEN RETURN; END IF;
    FOR k IN 1 .. v_tags + 3 LOOP
      v_kind := CASE WHEN k = 1 THEN 'project' WHEN k <= v_tags + 1 THEN 'tag' WHEN k = v_tags + 2 THEN 'run' ELSE 'session' END;
      v_sid := CASE WHEN v_kind = 'tag' THEN p_scopes -> 'tag' ->> (k - 2) ELSE p_scopes ->> v_kind END;
      CONTINUE WHEN v_sid IS NULL;
      SELECT c.id, c.budget_id, c.parent_budget_id, c.credit_limit, c.period, c.expires_at, sp.spent INTO b
        FROM credit_budgets c CROSS JOIN LATERAL credit_cap_spent('budget', c.id::varchar, p_account_id, c.period, p_at) sp
       WHERE c.account_id = p_account_id AND c.scope_kind = v_kind AND c.scope_id = v_sid;
      v_depth := 0;
      WHILE b.id IS NOT NULL LOOP
        IF NOT b.budget_id = ANY (v_seen) THEN
          v_seen := v_seen || b.budget_id;
          IF b.expires_at IS NULL OR b.expires_at > p_at THEN
            ord := ord + 1; id := b.id; budget_id := b.budget_id; credit_limit := b.credit_limit; period := b.period;
            period_start := credit_key_period_start(b.period, p_at); spent := b.spent;
            RETURN NEXT;
          END IF;
        END IF;
        -- A parent already read had its own parents read after it (a chain is at most 5 deep, so
        -- the depth bound never cuts one): a run under its project's budget reads the project once.
        EXIT WHEN b.parent_budget_id IS NULL OR b.parent_budget_id = ANY (v_seen) OR v_depth = 4;
        v_depth := v_depth + 1;
        SELECT c.id, c.budget_id, c.parent_budget_id, c.credit_limit, c.period, c.expires_at, sp.spent INTO b
          FROM credit_budgets c CROSS JOIN LATERAL credit_cap_spent('budget', c.id::varchar, p_account_id, c.period, p_at) sp
         WHERE c.budget_id = b.parent_budget_id AND c.account_id = p_account_id;
      END LOOP;
    END LOOP;
  END $function$;
