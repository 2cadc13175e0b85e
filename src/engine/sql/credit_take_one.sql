CREATE OR REPLACE FUNCTION public.credit_take_one(p_take character varying, p_mode character varying, p_amount integer, p_member character varying,
    p_session character varying, p_volume jsonb, p_scopes jsonb, p_usage_record uuid, p_correction uuid, p_created_by character varying, p_api_key_id uuid,
    p_accounts record, p_settings record, p_key record, p_lots record)
 RETURNS boolean
 LANGUAGE plpgsql
AS $function$
  -- The take of a lone event that is one ledger line (credits_take_events(), after its reads: the
  -- account p_accounts, its settings p_settings, the key's budget p_key and the lots p_lots): a
  -- strict debit in no session, or a strict hold in one, of more than 0 credits, of an account that
  -- exists, by no member, with no volume steps, budget scopes, key budget, hourly window or
  -- automatic recharge, that the account's first lot covers and after which no balance alert is due
  -- (credit_alert_due()). Such an event is what the general steps would make of it: decided by
  -- credit_decide() with no cap (a hold with no headroom: it never overdraws), one line of its kind
  -- on the first lot (credit_take_fifo()), naming its session, written by credit_ledger_write();
  -- without their arrays, about a quarter of a lone take's database time (docs/benchmarks.md "The
  -- batch of one's forks"). Answers whether it took the event; false: nothing moved, the general
  -- steps take it.
  DECLARE
    v_before bigint := p_lots.out_available[1];
  BEGIN
    IF NOT COALESCE(((p_take = 'debit' AND p_session IS NULL) OR (p_take = 'hold' AND p_session IS NOT NULL))
                    AND p_mode = 'strict' AND p_amount > 0 AND p_member IS NULL AND p_volume IS NULL
                    AND p_scopes IS NULL AND p_accounts.out_known[1] AND p_settings.out_limit[1] IS NULL AND NOT p_settings.out_recharge
                    AND p_lots.out_remaining[1] >= p_amount AND NOT credit_alert_due(v_before, v_before - p_amount, p_settings.out_top_threshold),
                    false) THEN
      RETURN false;
    END IF;
    IF p_api_key_id IS NOT NULL THEN
      IF p_key.out_limit IS NOT NULL THEN RETURN false; END IF;
    END IF;
    IF credit_decide(true, p_amount, p_amount, '{}', '{}', '{}', v_before,
                     CASE WHEN p_take = 'hold' THEN 0 ELSE credit_headroom(p_settings.out_overdraft[1], p_settings.out_owed[1]) END) <> 'ok' THEN
      RETURN false;
    END IF;
    PERFORM credit_ledger_write(p_accounts.out_acc, ARRAY[p_lots.out_id[1]], ARRAY[p_take], ARRAY[-p_amount], ARRAY[v_before - p_amount],
                                ARRAY[p_usage_record], p_session, p_api_key_id, p_created_by, p_correction_ids => ARRAY[p_correction]);
    RETURN true;
  END $function$;
