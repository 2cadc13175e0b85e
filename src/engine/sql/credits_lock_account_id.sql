CREATE OR REPLACE FUNCTION public.credits_lock_account_id(p_account_id bigint)
 RETURNS bigint
 LANGUAGE plpgsql
AS $function$
  -- The account lock of one account (docs/money.md "The account lock"): its `accounts` row by key, the
  -- lock credits_lock_account_ids() takes of several in id order. Answers the id when it names an
  -- account, else NULL. Called as an expression (`v := credits_lock_account_id(x)`), it runs one
  -- statement; through credits_lock_account_ids(ARRAY[x]), or under PERFORM, it was two, a statement
  -- around the function's own. A take of one account and a settlement write its statement inline
  -- (credit_take_accounts(), credits_settle()): the call costs about 20,000 instructions, 0.65 % of a
  -- record alone (docs/benchmarks.md "The record alone, counted").
  DECLARE
    v_id bigint;
  BEGIN
    SELECT a.account_id INTO v_id FROM accounts a WHERE a.account_id = p_account_id FOR NO KEY UPDATE OF a;
    RETURN v_id;
  END $function$;
