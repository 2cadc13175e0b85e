CREATE OR REPLACE FUNCTION public.credit_take_count(p_account_ids bigint[], p_window_added bigint[], p_minute bigint, p_pairs record, p_member_added bigint[],
    p_budgets record, p_budget_added bigint[], p_api_key_id uuid, p_key record, p_key_charged bigint)
 RETURNS integer
 LANGUAGE plpgsql
AS $function$
  -- The counters of a take (credits_take_events()), after its lines: what its decisions
  -- (credit_take_decide()) added to the members' limits (p_member_added[k] for p_pairs' pair k, on
  -- today's bucket), to the accounts' hourly windows (p_window_added[u] for p_account_ids[u], this
  -- minute's slot of a window as of minute p_minute), to the budgets (p_budget_added, credit_budget_caps()'s
  -- order) and to the key's budget (p_key_charged, null: no budget or no charge decided against it, once
  -- for the take; the events' limit_reached were sent in their order). Each statement costs its
  -- start-up whether or not it finds rows, and a record (a batch of one) pays them all: each runs only
  -- when it has something to write. Answers 0: a value, so the take calls it as an expression.
  BEGIN
    IF 0 < ANY (p_member_added) THEN
      PERFORM credit_cap_spend_add('member', p_pairs.out_member,
                                   (SELECT array_agg(p_account_ids[x.u] ORDER BY x.ord) FROM unnest(p_pairs.out_u) WITH ORDINALITY AS x(u, ord)),
                                   date_trunc('day', now(), 'UTC'), p_member_added);
    END IF;
    IF 0 < ANY (p_window_added) THEN
      INSERT INTO credit_accounts AS c (account_id, spend_minute, spend_window)
      SELECT d.account_id, p_minute,
             (SELECT array_agg((CASE WHEN s.slot = (p_minute % 60) + 1 THEN d.added ELSE 0 END)::int ORDER BY s.slot)
                FROM generate_series(1, 60) AS s(slot))
        FROM unnest(p_account_ids, p_window_added) AS d(account_id, added) WHERE d.added > 0
      ON CONFLICT (account_id) DO UPDATE
        SET spend_minute = EXCLUDED.spend_minute,
            -- the stored buckets still in the hour, plus what this take spent this minute
            spend_window = (SELECT array_agg(x.kept + x.added ORDER BY x.slot)
                              FROM unnest(credit_spend_window(c.spend_window, c.spend_minute, p_minute), EXCLUDED.spend_window)
                                   WITH ORDINALITY AS x(kept, added, slot)),
            updated_at = now();
    END IF;
    IF 0 < ANY (p_budget_added) THEN
      PERFORM credit_budget_count(p_budgets.out_id, p_budgets.out_account, p_budgets.out_start, p_budget_added);
    END IF;
    IF p_key_charged IS NOT NULL THEN
      PERFORM credit_cap_spend_add('key', ARRAY[p_api_key_id::varchar], ARRAY[NULL::bigint], p_key.out_start, ARRAY[p_key_charged]);
    END IF;
    RETURN 0;
  END $function$;
