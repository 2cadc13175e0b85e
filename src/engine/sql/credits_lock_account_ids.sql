CREATE OR REPLACE FUNCTION public.credits_lock_account_ids(p_account_ids bigint[])
 RETURNS SETOF bigint
 LANGUAGE plpgsql
AS $function$
  -- The account lock every movement of credits takes first (docs/money.md "The account lock"): the
  -- accounts' rows (`accounts`, src/accounts/), in account id order, so one account's movements
  -- serialise, different accounts never wait on each other, and two statements locking several
  -- accounts never deadlock. Answers the ids that name an account (NULL and unknown ids: no row).
  -- Callers resolve an owner to its account id at the edge (src/accounts/); the engine works on
  -- account ids only. NO KEY UPDATE: rows that will reference an account (KEY SHARE) are not blocked.
  -- A take of one account takes this lock by key in credit_take_accounts(), a statement fewer.
  -- PL/pgSQL, so its plans are kept per connection (a LANGUAGE sql function is planned again at every
  -- call from another function).
  --
  -- One shape for one account and for many: the ids are read through a LIMIT of their own count, which
  -- the planner cannot read, so the plan it keeps expects a row or so (an index lookup per id) and
  -- is not planned again at every call, as `= ANY` of an array parameter would be (PostgreSQL cannot
  -- size an array): that planning once cost the single take about a tenth of its time under the lock.
  BEGIN
    RETURN QUERY
      SELECT a.account_id FROM accounts a
       WHERE a.account_id IN (SELECT x.id FROM unnest(p_account_ids) AS x(id) LIMIT cardinality(p_account_ids))
       ORDER BY a.account_id
         FOR NO KEY UPDATE OF a;
  END $function$;
