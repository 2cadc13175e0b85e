CREATE OR REPLACE FUNCTION public.credit_thresholds(p_account_id bigint, p_default integer[])
 RETURNS integer[]
 LANGUAGE sql
 STABLE
AS $function$
  -- The low-balance thresholds of an account's alerts (credit_balance_alerts()): its own
  -- (credit_accounts.low_balance_thresholds, PUT …/alerts), else p_default (LOW_BALANCE_THRESHOLDS).
  -- The one lookup every movement that alerts makes; the takes, which read the account's row for
  -- their caps already, take the column from that row.
  SELECT COALESCE((SELECT c.low_balance_thresholds FROM credit_accounts c WHERE c.account_id = p_account_id), p_default)
$function$;
