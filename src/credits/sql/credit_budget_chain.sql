CREATE OR REPLACE FUNCTION public.credit_budget_chain(p_account_id bigint, p_scopes jsonb, p_at timestamp with time zone)
 RETURNS TABLE(ord integer, id bigint, budget_id character varying, credit_limit bigint, period character varying, period_start timestamp with time zone, spent bigint)
 LANGUAGE sql
 STABLE
AS $function$
  -- The budgets a write's scopes (p_scopes: {project, tag: [..], run, session}) name on account
  -- p_account_id, each followed by its ancestors (a chain holds at most 5), every budget once, in the
  -- order a refusal names them (docs/budgets.md "No overshoot"): the project's chain, the tags' in
  -- their order, the run's, then the session's. A budget expired at p_at refuses nothing and counts
  -- nothing, but its parents still apply. With each, the start of its period at p_at and what it has
  -- used and held in that period (its credit_cap_spend bucket, credit_cap_spent()). Read by the take
  -- under the account's lock, so a child's room is the least of its chain's.
  WITH RECURSIVE named AS (
    SELECT n.ord, n.kind, n.sid
      FROM (SELECT 1 AS ord, 'project' AS kind, p_scopes ->> 'project' AS sid
            UNION ALL
            SELECT 1 + t.i::int, 'tag', t.v
              FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(p_scopes -> 'tag') = 'array' THEN p_scopes -> 'tag'
                                                  ELSE '[]'::jsonb END) WITH ORDINALITY AS t(v, i)
            UNION ALL
            SELECT 20, 'run', p_scopes ->> 'run'
            UNION ALL
            SELECT 21, 'session', p_scopes ->> 'session') n
     WHERE n.sid IS NOT NULL
  ), chain AS (
    SELECT n.ord, 0 AS depth, b.id, b.budget_id, b.parent_budget_id, b.credit_limit, b.period, b.expires_at
      FROM named n
      JOIN credit_budgets b ON b.account_id = p_account_id AND b.scope_kind = n.kind AND b.scope_id = n.sid
    UNION ALL
    SELECT c.ord, c.depth + 1, p.id, p.budget_id, p.parent_budget_id, p.credit_limit, p.period, p.expires_at
      FROM chain c
      JOIN credit_budgets p ON p.budget_id = c.parent_budget_id AND p.account_id = p_account_id
     WHERE c.depth < 4
  )
  SELECT (row_number() OVER (ORDER BY f.ord, f.depth))::int, f.id, f.budget_id, f.credit_limit, f.period,
         credit_key_period_start(f.period, p_at), sp.spent
    FROM (SELECT DISTINCT ON (c.id) c.* FROM chain c ORDER BY c.id, c.ord, c.depth) f
   CROSS JOIN LATERAL credit_cap_spent('budget', f.id::varchar, p_account_id, f.period, p_at) sp
   WHERE f.expires_at IS NULL OR f.expires_at > p_at
   ORDER BY f.ord, f.depth
$function$;
