CREATE OR REPLACE FUNCTION public.credit_budget_count(p_ids bigint[], p_accounts bigint[], p_starts timestamp with time zone[], p_added bigint[])
 RETURNS void
 LANGUAGE plpgsql
 SET enable_seqscan TO 'off'
AS $function$
  -- What a take added to its budgets, or a settlement gave back (docs/budgets.md): budget p_ids[i] of
  -- account p_accounts[i] (each once) counts p_added[i] more (less, when negative) in the period
  -- starting at p_starts[i], under the account's lock. The counter is the budget row's own (spent,
  -- spent_start): an addition in a later period than the row's starts the period's count at it, and
  -- a give-back to a period the row no longer counts changes nothing (and never takes it below 0).
  -- One UPDATE for them all, each row by its key (the LIMIT never cuts a row: the plan kept expects
  -- a row or so, a lookup by key, whatever the table's statistics say), so the table's checks are
  -- read back once a take, not once a budget.
  BEGIN
    UPDATE credit_budgets b
       SET spent = CASE WHEN b.spent_start = x.start THEN GREATEST(b.spent + x.added, 0) ELSE x.added END,
           spent_start = x.start
      FROM (SELECT * FROM unnest(p_ids, p_accounts, p_starts, p_added) AS x(id, account_id, start, added)
             WHERE x.added <> 0 LIMIT cardinality(p_ids)) x
     WHERE b.id = x.id AND b.account_id = x.account_id
       AND (b.spent_start = x.start OR (x.added > 0 AND (b.spent_start IS NULL OR b.spent_start < x.start)));
  END $function$;
