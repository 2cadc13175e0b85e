CREATE OR REPLACE FUNCTION public.credit_volume_give_back(p_account_id bigint, p_credits integer, p_expires_at timestamp with time zone, p_usage_record_id uuid,
    p_created_by character varying, p_api_key_id uuid, p_model_id character varying, p_period_start timestamp with time zone)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
  -- What a `volume` step gives back (credit_volume_price() decided it): a new allocation of source
  -- `volume`, brought in by a `volume_adjustment` line naming the record whose total reached the
  -- cheaper step, through the one grant (it repays debt first, as every new credit does). Its money
  -- (docs/finance.md "The money rule"): the value share of the period's money (credit_volume_charges())
  -- that its credits are of the period's charged credits before it (what comes back plus the charged
  -- credits the total keeps after it): floor(money × back / charged), taken off the period's money, so
  -- the period's net money is what its net credits paid. A period no valued lot paid gives back no money.
  DECLARE
    v_value bigint;
    v_currency varchar;
  BEGIN
    SELECT floor(t.value_minor::numeric * p_credits / (p_credits + t.cost))::bigint, t.currency
      INTO v_value, v_currency
      FROM credit_volume_totals t
     WHERE t.account_id = p_account_id AND t.model_id = p_model_id AND t.period_start = p_period_start
       AND t.currency IS NOT NULL;
    IF v_currency IS NOT NULL THEN
      UPDATE credit_volume_totals t SET value_minor = t.value_minor - v_value
       WHERE t.account_id = p_account_id AND t.model_id = p_model_id AND t.period_start = p_period_start;
    END IF;
    PERFORM credits_grant(p_account_id, p_credits, p_created_by, p_expires_at, NULL, 'volume', NULL, NULL, NULL, true,
                          p_api_key_id => p_api_key_id, p_value_minor => v_value, p_currency => v_currency,
                          p_usage_record_id => p_usage_record_id, p_line => 'volume_adjustment');
  END $function$;
