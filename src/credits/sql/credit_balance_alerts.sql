CREATE OR REPLACE FUNCTION public.credit_balance_alerts(p_user_id character varying, p_before bigint, p_after bigint, p_thresholds integer[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
      DECLARE
        t integer;
      BEGIN
        IF p_after >= p_before THEN RETURN; END IF;
        FOREACH t IN ARRAY COALESCE(p_thresholds, '{}') LOOP
          IF p_before >= t AND p_after < t THEN
            PERFORM emit_event('balance.low', p_user_id,
              jsonb_build_object('userId', p_user_id, 'threshold', t, 'balance', p_after));
          END IF;
        END LOOP;
        IF p_before > 0 AND p_after <= 0 THEN
          PERFORM emit_event('balance.depleted', p_user_id, jsonb_build_object('userId', p_user_id));
        END IF;
      END $function$;
