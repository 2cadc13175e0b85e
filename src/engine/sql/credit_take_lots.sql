CREATE OR REPLACE FUNCTION public.credit_take_lots(p_account_ids bigint[], OUT out_id uuid[], OUT out_remaining integer[], OUT out_first integer[],
    OUT out_last integer[], OUT out_available bigint[])
 RETURNS record
 LANGUAGE plpgsql
AS $function$
  -- The live allocations of a take's accounts (credits_take_events()), locked, soonest-expiring first
  -- (ties: oldest), grouped by account (credit_allocations_fifo()): out_id[j] with out_remaining[j];
  -- account p_account_ids[u]'s are out_first[u] .. out_last[u] (0, 0: none), out_available[u] their sum.
  -- One account's are read in one statement without the grouping (27 to 40 % of a single take's time
  -- in the database, docs/benchmarks.md "The batch of one's forks"), by its own index scan in the
  -- FIFO's order, not through credit_allocations_fifo(), whose call was a second statement. Its
  -- aggregates read the rows in the order the sorted, locked subquery gives them (no join above it
  -- to reorder them, as PostgreSQL's documentation of aggregate input order allows), so they sort
  -- nothing again.
  DECLARE
    v_u integer[];
    v_count integer;
    v_total bigint;
  BEGIN
    IF cardinality(p_account_ids) = 1 THEN
      SELECT array_agg(f.id), array_agg(f.remaining_credits), COALESCE(sum(f.remaining_credits), 0)::bigint, count(*)::int
        INTO out_id, out_remaining, v_total, v_count
        FROM (SELECT a.id, a.remaining_credits FROM credit_allocations a
               WHERE a.account_id = p_account_ids[1] AND credit_allocation_live(a.expires_at) AND a.remaining_credits > 0
               ORDER BY a.expires_at, a.allocated_at, a.id
                 FOR UPDATE OF a) f;
      out_id := COALESCE(out_id, '{}'); out_remaining := COALESCE(out_remaining, '{}');
      out_first := ARRAY[LEAST(v_count, 1)]; out_last := ARRAY[v_count]; out_available := ARRAY[v_total];
      RETURN;
    END IF;
    SELECT array_agg(f.out_id ORDER BY f.ord), array_agg(f.out_remaining ORDER BY f.ord), array_agg(u.ord::int ORDER BY f.ord)
      INTO out_id, out_remaining, v_u
      FROM credit_allocations_fifo(p_account_ids) WITH ORDINALITY AS f(out_id, out_account_id, out_remaining, ord)
      JOIN unnest(p_account_ids) WITH ORDINALITY AS u(account_id, ord) ON u.account_id = f.out_account_id;
    out_id := COALESCE(out_id, '{}'); out_remaining := COALESCE(out_remaining, '{}');
    SELECT array_agg(COALESCE(g.first, 0) ORDER BY u.ord), array_agg(COALESCE(g.last, 0) ORDER BY u.ord),
           array_agg(COALESCE(g.total, 0) ORDER BY u.ord)
      INTO out_first, out_last, out_available
      FROM unnest(p_account_ids) WITH ORDINALITY AS u(account_id, ord) -- (not generate_series() over its length: planned at every call)
      LEFT JOIN (SELECT a.u, min(a.i)::int AS first, max(a.i)::int AS last, sum(a.rem)::bigint AS total
                   FROM unnest(v_u, out_remaining) WITH ORDINALITY AS a(u, rem, i)
                  GROUP BY a.u) g ON g.u = u.ord;
  END $function$;
