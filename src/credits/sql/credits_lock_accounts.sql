CREATE OR REPLACE FUNCTION public.credits_lock_accounts(p_kind character varying, p_owner_ids character varying[])
 RETURNS TABLE(out_account_id bigint, out_owner_id character varying, out_user_id character varying)
 LANGUAGE plpgsql
AS $function$
  -- The account lock every movement of credits takes first (docs/money.md "The account lock"): the
  -- accounts' rows (`accounts`, src/accounts/), in account id order, so one account's movements
  -- serialise, different accounts never wait on each other, and two statements locking several
  -- accounts never deadlock. Callers name accounts by kind ('user', 'org') and owner ids (user ids,
  -- org ids); it answers, for those that exist, the account id the engine works on, the owner id and
  -- the account's user id (null for an organisation). NO KEY UPDATE: rows that will reference an
  -- account (KEY SHARE) are not blocked. PL/pgSQL, so its plans are kept per connection (a LANGUAGE
  -- sql function is planned again at every call from another function). credits_lock_account_ids()
  -- locks by account id (the expiry job, a void), in the same order.
  --
  -- One account (every take but the batch's) is looked up by equality: PostgreSQL plans `= ANY` of an
  -- array parameter again at every call, because it cannot size the array, and that planning cost
  -- the single take about a tenth of its time under the lock.
  BEGIN
    IF cardinality(p_owner_ids) = 1 THEN
      IF p_kind = 'user' THEN
        RETURN QUERY
          SELECT a.account_id, a.user_id, a.user_id
            FROM accounts a
           WHERE a.user_id = p_owner_ids[1]
             FOR NO KEY UPDATE OF a;
      ELSIF p_kind = 'org' THEN
        RETURN QUERY
          SELECT a.account_id, a.org_id, a.user_id
            FROM accounts a
           WHERE a.org_id = p_owner_ids[1]
             FOR NO KEY UPDATE OF a;
      END IF;
    ELSIF p_kind = 'user' THEN
      RETURN QUERY
        SELECT a.account_id, a.user_id, a.user_id
          FROM accounts a
         WHERE a.user_id = ANY (p_owner_ids)
         ORDER BY a.account_id
           FOR NO KEY UPDATE OF a;
    ELSIF p_kind = 'org' THEN
      RETURN QUERY
        SELECT a.account_id, a.org_id, a.user_id
          FROM accounts a
         WHERE a.org_id = ANY (p_owner_ids)
         ORDER BY a.account_id
           FOR NO KEY UPDATE OF a;
    END IF;
  END $function$;
