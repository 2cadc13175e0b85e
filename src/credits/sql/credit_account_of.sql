CREATE OR REPLACE FUNCTION public.credit_account_of(p_kind character varying, p_owner_id character varying)
 RETURNS bigint
 LANGUAGE sql
 STABLE
AS $function$
  -- The account an owner names (docs/money.md "The account and its lock"): a user's by its user id,
  -- an organisation's by its org id; null when there is none. Callers name an account by (kind,
  -- owner id); the engine works on the account id. LANGUAGE sql with no FROM of its own, so a
  -- caller's plan inlines it (each branch an index lookup, the other folded away for a constant kind).
  SELECT CASE p_kind
           WHEN 'user' THEN (SELECT a.account_id FROM accounts a WHERE a.user_id = p_owner_id)
           WHEN 'org' THEN (SELECT a.account_id FROM accounts a WHERE a.org_id = p_owner_id)
         END
$function$;
