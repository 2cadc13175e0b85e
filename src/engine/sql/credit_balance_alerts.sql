CREATE OR REPLACE FUNCTION public.credit_balance_alerts(p_account_id bigint, p_before bigint, p_after bigint, p_thresholds integer[])
 RETURNS void
 LANGUAGE plpgsql
AS $function$
      -- The alerts of a movement that took the user's available balance from p_before down to
      -- p_after: balance.low for each threshold it crossed (from at least t to below t), and
      -- balance.depleted when it reached 0 (a crossing of 1). Each at most once until a grant lifts
      -- the balance back to it: credit_accounts.alerts_armed_up_to holds which thresholds are armed,
      -- those at or below it (null: all). A crossing lowers it to the balance; a grant raises it to
      -- the balance (credit_balance_alerts_rearm()); a released hold leaves it, so holding and
      -- aborting around a threshold alerts once, not at every hold.
      DECLARE
        t integer;
        v_crossed integer[] := '{}';
        v_depleted boolean := p_before > 0 AND p_after <= 0;
        v_armed bigint;
      BEGIN
        IF p_after >= p_before THEN RETURN; END IF;
        FOREACH t IN ARRAY COALESCE(p_thresholds, '{}') LOOP
          IF p_before >= t AND p_after < t THEN
            v_crossed := v_crossed || t;
          END IF;
        END LOOP;
        -- Most movements cross nothing: they read and write nothing more.
        IF cardinality(v_crossed) = 0 AND NOT v_depleted THEN RETURN; END IF;
        SELECT c.alerts_armed_up_to INTO v_armed FROM credit_accounts c WHERE c.account_id = p_account_id;
        -- The events name the account (credit_event()): its user, or an organisation's orgId (userId null).
        FOREACH t IN ARRAY v_crossed LOOP
          IF v_armed IS NULL OR t <= v_armed THEN
            PERFORM credit_event('balance.low', p_account_id, jsonb_build_object('threshold', t, 'balance', p_after));
          END IF;
        END LOOP;
        IF v_depleted AND (v_armed IS NULL OR v_armed >= 1) THEN
          PERFORM credit_event('balance.depleted', p_account_id, '{}'::jsonb);
        END IF;
        IF v_armed IS NULL OR v_armed > p_after THEN
          INSERT INTO credit_accounts AS c (account_id, alerts_armed_up_to) VALUES (p_account_id, p_after)
          ON CONFLICT (account_id) DO UPDATE
            SET alerts_armed_up_to = LEAST(c.alerts_armed_up_to, EXCLUDED.alerts_armed_up_to), updated_at = now();
        END IF;
      END $function$;
