CREATE OR REPLACE FUNCTION public.credit_ledger_write(p_accounts bigint[], p_allocations uuid[], p_kinds character varying[], p_amounts integer[], p_balances bigint[], p_usage_records uuid[], p_session_id character varying, p_api_key_id uuid, p_created_by character varying, p_members character varying[] DEFAULT NULL::character varying[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
  -- The one writer of credit_ledger (docs/money.md "The ledger"): every movement's lines, line i of
  -- account p_accounts[i] on allocation p_allocations[i] (NULL: an overdraft), of kind p_kinds[i] and
  -- signed amount p_amounts[i], the account's available balance just after it p_balances[i], for the
  -- usage record p_usage_records[i]; the session, the API key it was made through and who made it
  -- are the movement's. An organisation's lines name the member who spent (p_members[i]) as their
  -- user_id (the account says who paid); a user's lines name the user. Every line's amount is applied to its allocation's remaining_credits in the
  -- same call (a late release and its expire on one allocation net to nothing; a grant applies its
  -- +total to the allocation it inserted empty; credits put back clear expiry_done), then the lines are appended in array order. The
  -- caller holds the accounts' lock and has locked the allocations.
  BEGIN
    -- The LIMITs (`cardinality(…)` of the arrays the rows come from) never cut a row: they are there
    -- for the plans. PL/pgSQL keeps a statement's generic plan only while it costs no more than the
    -- plans made for each call's values, and the generic plan sizes unnest() at 10 rows: for the
    -- UPDATE a sequential scan of credit_allocations with a hash join, for the INSERT a hash join
    -- over accounts, each dearer than the one-row index lookups planned for a take of one
    -- allocation, so every take planned both afresh (about a sixth of a record's CPU in PostgreSQL)
    -- or ran the hash join over every account (about a tenth more under the bench, and more the more
    -- accounts there are). A LIMIT the planner cannot read makes the generic plan expect a row or so:
    -- index lookups by key, kept for good, and as fast for the batch's thousand lines.
    UPDATE credit_allocations c SET remaining_credits = c.remaining_credits + m.net,
           -- credits put back make an expired allocation due for the expiry job again
           expiry_done = c.expiry_done AND m.net < 0
      FROM (SELECT l.allocation_id, sum(l.amount)::int AS net
              FROM unnest(p_allocations, p_amounts) AS l(allocation_id, amount)
             WHERE l.allocation_id IS NOT NULL
             GROUP BY l.allocation_id
             LIMIT cardinality(p_allocations)) m
     WHERE c.id = m.allocation_id AND m.net <> 0;
    INSERT INTO credit_ledger (account_id, user_id, allocation_id, kind, amount, balance_after, session_id, usage_record_id,
                               api_key_id, created_by)
    SELECT l.account_id, COALESCE(u.user_id, p_members[l.ord]), l.allocation_id, l.kind, l.amount, l.balance_after, p_session_id, l.usage_record_id,
           p_api_key_id, p_created_by
      FROM (SELECT * FROM unnest(p_accounts, p_allocations, p_kinds, p_amounts, p_balances, p_usage_records)
                          WITH ORDINALITY AS l(account_id, allocation_id, kind, amount, balance_after, usage_record_id, ord)
             LIMIT cardinality(p_accounts)) l
      JOIN accounts u ON u.account_id = l.account_id
     ORDER BY l.ord;
  END $function$;
