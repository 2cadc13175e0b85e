CREATE OR REPLACE FUNCTION public.credits_lock_account_ids(p_account_ids bigint[])
 RETURNS SETOF bigint
 LANGUAGE plpgsql
AS $function$
  -- The account lock (credits_lock_accounts()) for callers that already hold account ids (the expiry
  -- job, a void, a settlement): the rows in account id order, answering the ids that exist.
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
