CREATE OR REPLACE FUNCTION public.account_org_id(p_account_id bigint)
 RETURNS character varying
 LANGUAGE sql
 STABLE
AS $function$
  -- The organisation an account belongs to (null for a user's account): how a row that names only its
  -- account (an allocation, a ledger line) tells which org it is of. LANGUAGE sql, so it inlines.
  SELECT a.org_id FROM accounts a WHERE a.account_id = p_account_id
$function$;
