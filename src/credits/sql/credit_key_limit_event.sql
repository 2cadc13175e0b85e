CREATE OR REPLACE FUNCTION public.credit_key_limit_event(p_account_id bigint, p_api_key_id uuid, p_limit integer, p_period character varying, p_spent_before bigint, p_charged bigint)
 RETURNS void
 LANGUAGE plpgsql
AS $function$
  -- api_key.limit_reached, sent by the charge that takes a key's spend in its period from below its
  -- limit to the limit or past it (once per period: later charges start at or past it). Charging an
  -- organisation, it names the org and the key's owner (the account has no user).
  BEGIN
    IF p_spent_before < p_limit AND p_spent_before + p_charged >= p_limit THEN
      PERFORM emit_event('api_key.limit_reached', COALESCE(u.user_id, k.user_id), jsonb_build_object(
        'userId', COALESCE(u.user_id, k.user_id), 'apiKeyId', p_api_key_id, 'creditLimit', p_limit,
        'limitPeriod', p_period)
        || CASE WHEN u.org_id IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('orgId', u.org_id) END)
        FROM accounts u LEFT JOIN api_keys k ON k.id = p_api_key_id WHERE u.account_id = p_account_id;
    END IF;
  END $function$;
