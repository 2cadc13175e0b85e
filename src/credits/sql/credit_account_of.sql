CREATE OR REPLACE FUNCTION public.credit_account_of(p_kind character varying, p_owner_id character varying)
 RETURNS bigint
 LANGUAGE sql
 STABLE
AS $function$
  -- The account an owner names (docs/money.md "The account and its lock"): a user's by its user id,
  -- an organisation's by its org id; null when there is none. Callers name an account by (kind,
  -- owner id); the engine works on the account id. Each branch is an index lookup. PostgreSQL does
  -- not inline it (a body with subqueries is never inlined): each call is a function call, cheap
  -- once, a tenth of a 1,000-account batch take, which writes the same lookups out for that reason.
  SELECT CASE p_kind
           WHEN 'user' THEN (SELECT a.account_id FROM accounts a WHERE a.user_id = p_owner_id)
           WHEN 'org' THEN (SELECT a.account_id FROM accounts a WHERE a.org_id = p_owner_id)
         END
$function$;
