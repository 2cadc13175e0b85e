CREATE OR REPLACE FUNCTION public.credit_key_limit_event(p_account_id bigint, p_api_key_id uuid, p_limit integer, p_period character varying, p_spent_before bigint, p_charged bigint)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
  -- api_key.limit_reached, sent by the charge that takes a key's spend in its period from below its
  -- limit to the limit or past it (once per period: later charges start at or past it).
  BEGIN
    IF p_spent_before < p_limit AND p_spent_before + p_charged >= p_limit THEN
      PERFORM emit_event('api_key.limit_reached', u.user_id, jsonb_build_object(
        'userId', u.user_id, 'apiKeyId', p_api_key_id, 'creditLimit', p_limit, 'limitPeriod', p_period))
        FROM accounts u WHERE u.account_id = p_account_id;
    END IF;
  END $function$;
