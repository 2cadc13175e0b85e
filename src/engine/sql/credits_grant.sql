CREATE OR REPLACE FUNCTION public.credits_grant(p_account_id bigint, p_credits integer, p_allocated_by character varying, p_expires_at timestamp with time zone,
    p_notes text, p_source character varying, p_plan_id character varying, p_subscription_id uuid, p_period_start timestamp with time zone, p_rearm boolean,
    p_purchase_id uuid DEFAULT NULL::uuid, p_api_key_id uuid DEFAULT NULL::uuid, p_value_minor bigint DEFAULT NULL::bigint,
    p_currency character varying DEFAULT NULL::character varying, p_usage_record_id uuid DEFAULT NULL::uuid, p_correction_id uuid DEFAULT NULL::uuid,
    p_line character varying DEFAULT 'grant'::character varying)
 RETURNS SETOF credit_allocations
 LANGUAGE plpgsql
AS $function$
  -- A grant to account p_account_id (the caller resolved its owner): under the account lock, a new
  -- allocation with its `grant` line (+total), which first
  -- repays the account's debt as far as it goes (a `repay` line on it, which lowers the debt), then the
  -- balance alerts armed again up to the balance it left (p_rearm; a rollover re-arms after its own
  -- line). Answers the allocation as it stands after the repay; no row when a plan period's grant
  -- or rollover exists already (credit_allocations_period_idx), the purchase p_purchase_id has its
  -- allocation already (credit_allocations_purchase_id_key: one per purchase), or the account does not.
  -- Its lines name the API key that acted (p_api_key_id: a purchase marked paid, a grant made
  -- through a service key). The new allocation tells credits.granted (credit_granted_events()). A
  -- valued allocation (docs/finance.md) is worth p_value_minor minor units of
  -- p_currency (a purchase's amount, an allocation's value, a priced plan's price, what a rollover
  -- keeps); its grant line brings that money in, its repay takes its share out as revenue. A usage
  -- correction's allocation (credits_correct()) names its record and correction on its lines. p_line
  -- names the line that brings the credits in (`volume_adjustment`: a volume step's give-back).
  DECLARE
    a credit_allocations%ROWTYPE;
    v_balance bigint;
    v_repay integer;
    v_live boolean;
    v_account bigint;
  BEGIN
    SELECT l.id INTO v_account FROM credits_lock_account_ids(ARRAY[p_account_id]) l(id);
    IF v_account IS NULL THEN
      RETURN;
    END IF;
    v_balance := credit_available(v_account);
    -- Inserted empty: the grant line puts its credits in (credit_ledger_write() applies every line).
    -- Clock time, not the transaction's: two grants of one transaction (a rollover, then the period's
    -- allowance) are spent in the order they were made.
    INSERT INTO credit_allocations (account_id, total_credits, remaining_credits, allocated_by, expires_at, notes,
                                    source, plan_id, subscription_id, period_start, allocated_at, purchase_id,
                                    value_minor, value_remaining_minor, currency)
    VALUES (v_account, p_credits, 0, p_allocated_by, p_expires_at, p_notes, COALESCE(p_source, 'manual'),
            p_plan_id, p_subscription_id, p_period_start, clock_timestamp(), p_purchase_id,
            p_value_minor, CASE WHEN p_value_minor IS NOT NULL THEN 0 END, CASE WHEN p_value_minor IS NOT NULL THEN p_currency END)
    ON CONFLICT DO NOTHING
    RETURNING * INTO a;
    IF NOT FOUND THEN
      RETURN;
    END IF;
    v_live := credit_allocation_live(a.expires_at);
    SELECT LEAST(c.debt, p_credits) INTO v_repay FROM credit_accounts c WHERE c.account_id = v_account AND c.debt > 0;
    v_repay := COALESCE(v_repay, 0);
    IF v_repay > 0 THEN
      PERFORM credit_ledger_write(ARRAY[v_account, v_account], ARRAY[a.id, a.id], ARRAY[p_line, 'repay']::varchar[],
                                  ARRAY[p_credits, -v_repay],
                                  ARRAY[v_balance + CASE WHEN v_live THEN p_credits ELSE 0 END,
                                        v_balance + CASE WHEN v_live THEN p_credits - v_repay ELSE 0 END],
                                  ARRAY[p_usage_record_id, p_usage_record_id]::uuid[], NULL, p_api_key_id, p_allocated_by,
                                  p_correction_id => p_correction_id);
    ELSE
      PERFORM credit_ledger_write(ARRAY[v_account], ARRAY[a.id], ARRAY[p_line]::varchar[], ARRAY[p_credits],
                                  ARRAY[v_balance + CASE WHEN v_live THEN p_credits ELSE 0 END],
                                  ARRAY[p_usage_record_id]::uuid[], NULL, p_api_key_id, p_allocated_by,
                                  p_correction_id => p_correction_id);
    END IF;
    IF p_rearm THEN
      PERFORM credit_balance_alerts_rearm(v_account, credit_available(v_account));
    END IF;
    PERFORM credit_granted_events(ARRAY[a.id]);
    RETURN QUERY SELECT * FROM credit_allocations c WHERE c.id = a.id;
  END $function$;
