CREATE OR REPLACE FUNCTION public.credit_budget_count(p_ids bigint[], p_accounts bigint[], p_starts timestamp with time zone[], p_added bigint[])
 RETURNS void
 LANGUAGE plpgsql
 SET enable_seqscan TO 'off'
AS $function$
  -- What a take added to its budgets (docs/budgets.md): budget p_ids[i] of account p_accounts[i]
  -- counts p_added[i] more in its bucket of the period starting at p_starts[i], under the account's
  -- lock. Each bucket is updated by its whole key (every bucket after a period's first write), and
  -- inserted when absent (a period's first write): a plain update, where INSERT … ON CONFLICT DO
  -- UPDATE first probed for the conflict and locked the row it found before updating it. A statement
  -- a budget, each a lookup by the whole key whatever the table's statistics say: the one UPDATE
  -- joined to unnest() it replaces was planned, while the table was still small or its statistics
  -- were those of an empty table, as a walk of every budget's buckets, and a session keeps its plan
  -- (docs/benchmarks.md "What budgets cost the record"). Sequential scans are off for the same
  -- reason: no plan here ever needs one.
  BEGIN
    FOR i IN 1 .. cardinality(p_ids) LOOP
      CONTINUE WHEN p_added[i] <= 0;
      UPDATE credit_cap_spend s SET spent = s.spent + p_added[i]
       WHERE s.subject_kind = 'budget' AND s.subject_id = p_ids[i]::varchar AND s.account_id = p_accounts[i]
         AND s.period_start = p_starts[i];
      IF NOT FOUND THEN
        INSERT INTO credit_cap_spend AS s (subject_kind, subject_id, account_id, period_start, spent)
        VALUES ('budget', p_ids[i]::varchar, p_accounts[i], p_starts[i], p_added[i])
        ON CONFLICT (subject_kind, subject_id, account_id, period_start) DO UPDATE SET spent = s.spent + EXCLUDED.spent;
      END IF;
    END LOOP;
  END $function$;
