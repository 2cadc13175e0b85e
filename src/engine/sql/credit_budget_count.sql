CREATE OR REPLACE FUNCTION public.credit_budget_count(p_ids bigint[], p_accounts bigint[], p_starts timestamp with time zone[], p_added bigint[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
  -- What a take added to its budgets (docs/budgets.md): budget p_ids[i] of account p_accounts[i]
  -- counts p_added[i] more in its bucket of the period starting at p_starts[i] (credit_cap_spend_add(),
  -- one call a period start: one for a record's whole chain when its budgets share a period, the
  -- usual, made without a statement over the arrays).
  BEGIN
    IF p_starts[1] = ALL (p_starts) THEN
      PERFORM credit_cap_spend_add('budget', p_ids::varchar[], p_accounts, p_starts[1], p_added);
    ELSE
      PERFORM credit_cap_spend_add('budget', array_agg(x.id::varchar), array_agg(x.account_id), x.start, array_agg(x.added))
         FROM unnest(p_ids, p_accounts, p_starts, p_added) AS x(id, account_id, start, added)
        WHERE x.added > 0
        GROUP BY x.start;
    END IF;
  END $function$;
