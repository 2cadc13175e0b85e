CREATE OR REPLACE FUNCTION public.account_user_id(p_account_id bigint)
 RETURNS character varying
 LANGUAGE sql
 STABLE
AS $function$
  -- The user an account belongs to (null for an organisation's account): how a row that names only its
  -- account (an allocation) tells whose it is, now that it repeats no owner. LANGUAGE sql, so it inlines.
  SELECT a.user_id FROM accounts a WHERE a.account_id = p_account_id
$function$;
