CREATE OR REPLACE FUNCTION public.credits_rollover(p_account_id bigint, p_from uuid, p_cap integer, p_expires_at timestamp with time zone,
    p_plan_id character varying, p_subscription_id uuid, p_period_start timestamp with time zone)
 RETURNS SETOF credit_allocations
 LANGUAGE plpgsql
AS $function$
  -- A plan renewal's rollover, under the account lock: up to p_cap of what the period's allocation
  -- p_from has left moves to a new allocation (source rollover, keyed like the period's grant,
  -- through credits_grant()): a `rollover` line takes them out of the old one, the grant's line puts
  -- them in the new one, with the money they leave with (credit_value_share(), as the rollover line
  -- takes it out); then the balance alerts are armed again. Answers the new allocation; no row
  -- when there is nothing to roll over or it was rolled over already.
  DECLARE
    old credit_allocations%ROWTYPE;
    created credit_allocations%ROWTYPE;
    v_amount integer;
    v_balance bigint;
    v_account bigint;
  BEGIN
    SELECT l.id INTO v_account FROM credits_lock_account_ids(ARRAY[p_account_id]) l(id);
    IF v_account IS NULL THEN
      RETURN;
    END IF;
    SELECT * INTO old FROM credit_allocations c WHERE c.id = p_from AND c.account_id = v_account FOR UPDATE;
    v_amount := LEAST(old.remaining_credits, p_cap);
    IF old.id IS NULL OR v_amount IS NULL OR v_amount <= 0 THEN
      RETURN;
    END IF;
    SELECT * INTO created
      FROM credits_grant(v_account, v_amount, 'system', p_expires_at, 'Rolled over from ' || old.id, 'rollover',
                         p_plan_id, p_subscription_id, p_period_start, false, NULL, NULL,
                         credit_value_share(old.value_remaining_minor, v_amount, old.remaining_credits), old.currency);
    IF created.id IS NULL THEN
      RETURN;
    END IF;
    v_balance := credit_available(v_account);
    PERFORM credit_ledger_write(ARRAY[v_account], ARRAY[old.id], ARRAY['rollover']::varchar[], ARRAY[-v_amount],
                                ARRAY[v_balance - CASE WHEN credit_allocation_live(old.expires_at) THEN v_amount ELSE 0 END],
                                ARRAY[NULL]::uuid[], NULL, NULL, 'system');
    PERFORM credit_balance_alerts_rearm(v_account, credit_available(v_account));
    RETURN NEXT created;
  END $function$;
