CREATE OR REPLACE FUNCTION public.credits_lock_accounts(p_account_ids character varying[])
 RETURNS SETOF character varying
 LANGUAGE plpgsql
AS $function$
  -- The account lock every movement of credits takes first (docs/money.md "The account lock"): the
  -- accounts' rows (`accounts`, src/accounts/), in id order, so one account's movements serialise,
  -- different accounts never wait on each other, and two statements locking several accounts never
  -- deadlock. The engine's callers still name a user account by its user id, which this resolves
  -- (accounts.user_id, unique); it answers the ones that exist. NO KEY UPDATE: rows that will
  -- reference an account (KEY SHARE) are not blocked. PL/pgSQL, so its plan is kept per connection
  -- (a LANGUAGE sql function is planned again at every call from another function).
  --
  -- One account (every take but the batch's) is looked up by equality: PostgreSQL plans `= ANY` of an
  -- array parameter again at every call, because it cannot size the array, and that planning cost
  -- the single take about a tenth of its time under the lock.
  BEGIN
    IF cardinality(p_account_ids) = 1 THEN
      RETURN QUERY
        SELECT a.user_id
          FROM accounts a
         WHERE a.user_id = p_account_ids[1]
           FOR NO KEY UPDATE OF a;
    ELSE
      RETURN QUERY
        SELECT a.user_id
          FROM accounts a
         WHERE a.user_id = ANY (p_account_ids)
         ORDER BY a.user_id
           FOR NO KEY UPDATE OF a;
    END IF;
  END $function$;
