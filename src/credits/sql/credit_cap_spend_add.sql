CREATE OR REPLACE FUNCTION public.credit_cap_spend_add(p_kind character varying, p_subject character varying, p_account_id bigint, p_period_start timestamp with time zone, p_delta bigint)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
  -- A cap's spend counted: p_delta added to the subject's bucket starting at p_period_start (a key's
  -- period, credit_key_period_start(); a member's UTC day). A give-back is negative, on the bucket its
  -- hold counted in, and never takes a bucket below 0. Called by the takes, settlements and take-backs
  -- under the account's lock, so a counter moves one charge at a time with the decision that read it
  -- (a counter, never a wallet). p_account_id: the org's account for a member, NULL for a key.
  BEGIN
    INSERT INTO credit_cap_spend AS s (subject_kind, subject_id, account_id, period_start, spent)
    VALUES (p_kind, p_subject, COALESCE(p_account_id, 0), p_period_start, GREATEST(p_delta, 0))
    ON CONFLICT (subject_kind, subject_id, account_id, period_start) DO UPDATE SET spent = GREATEST(s.spent + p_delta, 0);
  END $function$;
