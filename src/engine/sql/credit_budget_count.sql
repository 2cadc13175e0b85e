CREATE OR REPLACE FUNCTION public.credit_budget_count(p_ids bigint[], p_accounts bigint[], p_starts timestamp with time zone[], p_added bigint[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
  -- What a take added to its budgets (docs/budgets.md): budget p_ids[i] of account p_accounts[i]
  -- counts p_added[i] more in its bucket of the period starting at p_starts[i], under the account's
  -- lock. One UPDATE of the buckets that exist (every bucket after a period's first write): a plain
  -- update by key, where INSERT … ON CONFLICT DO UPDATE (credit_cap_spend_add()) first probed for the
  -- conflict and locked the row it found before updating it. When it found fewer than the take
  -- counted, the buckets still absent (a period's first write) are inserted. (The LIMIT never cuts a
  -- row: the kept plan expects a row or so, a lookup by key, as credit_cap_spend_add()'s give-back does.)
  DECLARE
    v_found integer;
  BEGIN
    UPDATE credit_cap_spend s SET spent = s.spent + x.added
      FROM (SELECT * FROM unnest(p_ids, p_accounts, p_starts, p_added) AS x(id, account_id, start, added)
             LIMIT cardinality(p_ids)) x
     WHERE x.added > 0 AND s.subject_kind = 'budget' AND s.subject_id = x.id::varchar
       AND s.account_id = x.account_id AND s.period_start = x.start;
    GET DIAGNOSTICS v_found = ROW_COUNT;
    IF v_found < cardinality(p_ids) THEN
      INSERT INTO credit_cap_spend AS s (subject_kind, subject_id, account_id, period_start, spent)
      SELECT 'budget', x.id::varchar, x.account_id, x.start, x.added
        FROM unnest(p_ids, p_accounts, p_starts, p_added) AS x(id, account_id, start, added)
       WHERE x.added > 0
         AND NOT EXISTS (SELECT 1 FROM credit_cap_spend c
                          WHERE c.subject_kind = 'budget' AND c.subject_id = x.id::varchar
                            AND c.account_id = x.account_id AND c.period_start = x.start)
      ON CONFLICT (subject_kind, subject_id, account_id, period_start) DO UPDATE SET spent = s.spent + EXCLUDED.spent;
    END IF;
  END $function$;
