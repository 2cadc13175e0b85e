CREATE OR REPLACE FUNCTION public.credit_volume_give_back(p_account_id bigint, p_credits integer, p_expires_at timestamp with time zone, p_usage_record_id uuid, p_created_by character varying, p_api_key_id uuid)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
  -- What a `volume` step gives back (credit_volume_price() decided it): a new allocation of source
  -- `volume`, brought in by a `volume_adjustment` line naming the record whose total reached the
  -- cheaper step, through the one grant (it repays debt first, as every new credit does).
  BEGIN
    PERFORM credits_grant(p_account_id, p_credits, p_created_by, p_expires_at, NULL, 'volume', NULL, NULL, NULL, true,
                          p_api_key_id => p_api_key_id, p_usage_record_id => p_usage_record_id,
                          p_line => 'volume_adjustment');
  END $function$;
