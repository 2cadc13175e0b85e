CREATE OR REPLACE FUNCTION public.credits_lock_account_ids(p_account_ids bigint[])
 RETURNS SETOF bigint
 LANGUAGE plpgsql
AS $function$
  -- The account lock every movement of credits takes first (docs/money.md "The account lock"): the
  -- accounts' rows (`accounts`, src/accounts/), in account id order, so one account's movements
  -- serialise, different accounts never wait on each other, and two statements locking several
  -- accounts never deadlock. Answers the ids that name an account (NULL and unknown ids: no row).
  -- Callers resolve an owner to its account id at the edge (credit_account_of()); the engine works on
  -- account ids only. NO KEY UPDATE: rows that will reference an account (KEY SHARE) are not blocked.
  -- PL/pgSQL, so its plans are kept per connection (a LANGUAGE sql function is planned again at every
  -- call from another function).
  --
  -- One account (every take but the batch's) is looked up by equality: PostgreSQL plans `= ANY` of an
  -- array parameter again at every call, because it cannot size the array, and that planning cost
  -- the single take about a tenth of its time under the lock.
  BEGIN
    IF cardinality(p_account_ids) = 1 THEN
      RETURN QUERY
        SELECT a.account_id FROM accounts a WHERE a.account_id = p_account_ids[1] FOR NO KEY UPDATE OF a;
    ELSE
      RETURN QUERY
        SELECT a.account_id FROM accounts a WHERE a.account_id = ANY (p_account_ids)
         ORDER BY a.account_id
           FOR NO KEY UPDATE OF a;
    END IF;
  END $function$;
