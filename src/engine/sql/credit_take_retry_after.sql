CREATE OR REPLACE FUNCTION public.credit_take_retry_after(p_account_id bigint, p_minute bigint, p_added bigint, p_ask bigint, p_limit integer)
 RETURNS integer
 LANGUAGE plpgsql
 STABLE
AS $function$
  -- A take's event refused by the account's hourly limit (credits_take_events()): the seconds until
  -- p_ask fits (credit_spend_retry_after()), read from the window of the stored buckets still in the
  -- hour at p_minute and what the take's events before it spent this minute (p_added).
  DECLARE
    w integer[];
  BEGIN
    SELECT credit_spend_window(c.spend_window, c.spend_minute, p_minute) INTO w
      FROM (SELECT 1) one LEFT JOIN credit_accounts c ON c.account_id = p_account_id;
    w[(p_minute % 60) + 1] := w[(p_minute % 60) + 1] + p_added;
    RETURN credit_spend_retry_after(w, p_minute, p_ask, p_limit);
  END $function$;
