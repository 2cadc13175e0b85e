CREATE OR REPLACE FUNCTION public.credits_feature_consume(p_account_id bigint, p_feature character varying, p_limit bigint, p_period character varying,
    p_consume bigint, p_event_id character varying, p_at timestamp with time zone)
 RETURNS TABLE(allowed boolean, used bigint, cap_limit bigint, period character varying, period_start timestamp with time zone, replayed boolean,
    reused boolean)
 LANGUAGE plpgsql
AS $function$
  -- A metered feature's use consumed (docs/features.md "Checks"): p_consume against the grant's
  -- p_limit per p_period (`day`, `week`, `month` in UTC, or `lifetime`), counted in the feature's
  -- credit_cap_spend bucket of the account (subject_kind `feature`, the bucket starting at the period
  -- containing p_at, the app's clock). Under the account's lock, so parallel checks decide one at a
  -- time and never consume past the limit; a refusal consumes nothing.
  -- p_event_id (or NULL): the check's own id. Its first answer, allowed or refused, is kept
  -- (credit_cap_event_ids, 35 days) and a repeat answers it again and consumes nothing. A repeat
  -- asking another p_consume is another use under the same id: `reused`, nothing consumed, and the
  -- caller refuses it (the first answer would say yes to an amount it never decided on).
  -- p_limit NULL: the account has no grant of it (only a kept answer is looked up; no row returned).
  -- The charge that first takes a period's use to the limit sends feature.limit_reached, once per
  -- period (credit_caps.limit_reached_period, as a member's limit does), through credit_event().
  DECLARE
    v_start timestamptz;
    v_used bigint;
    v_allowed boolean;
  BEGIN
    PERFORM credits_lock_account_ids(ARRAY[p_account_id]);
    IF p_event_id IS NOT NULL THEN
      RETURN QUERY
        SELECT e.allowed, e.used, e.cap_limit, e.period, e.period_start, true,
               e.consume IS DISTINCT FROM p_consume AND e.consume IS NOT NULL
          FROM credit_cap_event_ids e
         WHERE e.account_id = p_account_id AND e.subject_kind = 'feature' AND e.subject_id = p_feature
           AND e.event_id = p_event_id;
      IF FOUND THEN
        RETURN;
      END IF;
    END IF;
    IF p_limit IS NULL THEN
      RETURN;
    END IF;
    v_start := credit_key_period_start(p_period, p_at);
    SELECT COALESCE(sum(s.spent), 0) INTO v_used
      FROM credit_cap_spend s
     WHERE s.subject_kind = 'feature' AND s.subject_id = p_feature AND s.account_id = p_account_id
       AND s.period_start = v_start;
    v_allowed := v_used + p_consume <= p_limit;
    IF v_allowed THEN
      PERFORM credit_cap_spend_add('feature', ARRAY[p_feature], ARRAY[p_account_id], v_start, ARRAY[p_consume]);
      IF v_used < p_limit AND v_used + p_consume >= p_limit THEN
        -- A limit raised in the period lets use reach it again: the period's event is already sent.
        INSERT INTO credit_caps AS c (subject_kind, subject_id, account_id, limit_reached_period)
        VALUES ('feature', p_feature, p_account_id, (v_start AT TIME ZONE 'UTC')::date)
        ON CONFLICT (subject_kind, subject_id, account_id) DO UPDATE
          SET limit_reached_period = EXCLUDED.limit_reached_period, updated_at = now()
          WHERE c.limit_reached_period IS DISTINCT FROM EXCLUDED.limit_reached_period;
        IF FOUND THEN
          PERFORM credit_event('feature.limit_reached', p_account_id,
            jsonb_build_object('featureKey', p_feature, 'limit', p_limit, 'period', p_period));
        END IF;
      END IF;
      v_used := v_used + p_consume;
    END IF;
    IF p_event_id IS NOT NULL THEN
      INSERT INTO credit_cap_event_ids
        (account_id, subject_kind, subject_id, event_id, allowed, used, cap_limit, period_start, period, created_at,
         consume)
      VALUES (p_account_id, 'feature', p_feature, p_event_id, v_allowed, v_used, p_limit, v_start, p_period, p_at,
              p_consume);
    END IF;
    RETURN QUERY SELECT v_allowed, v_used, p_limit, p_period, v_start, false, false;
  END $function$;
