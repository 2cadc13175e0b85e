CREATE OR REPLACE FUNCTION public.credit_take_notify(p_account_ids bigint[], p_event_accounts integer[], p_decided record, p_thresholds integer[],
    p_recharge boolean)
 RETURNS integer
 LANGUAGE plpgsql
AS $function$
  -- The events a take's movements send (credits_take_events()), last: the balance alerts in the order
  -- the movements happened (credit_take_alerts(), only when a decision saw one may alert:
  -- p_decided.out_alerts, credit_take_decide()'s), then one auto-recharge check per account that an
  -- event let through charged and whose balance after (p_decided.out_account_available[u]) is below
  -- its recharge level (auto_recharge_check(); only when an account of the take recharges, p_recharge).
  -- Answers 0: a value, so the take calls it as an expression, without a statement of its own.
  BEGIN
    IF p_decided.out_alerts THEN
      PERFORM credit_take_alerts(p_account_ids, p_event_accounts, p_decided.out_before, p_decided.out_balance, p_decided.out_status, p_thresholds);
    END IF;
    IF p_recharge THEN
      PERFORM auto_recharge_check(b.account_id, b.avail)
         FROM unnest(p_account_ids, p_decided.out_account_available) WITH ORDINALITY AS b(account_id, avail, u)
         JOIN credit_accounts c ON c.account_id = b.account_id AND c.recharge_below > b.avail
        WHERE EXISTS (SELECT 1 FROM unnest(p_event_accounts, p_decided.out_status, p_decided.out_collected, p_decided.out_debt) AS e(u, status, taken, debt)
                       WHERE e.u = b.u AND e.status = 'ok' AND e.taken + e.debt > 0);
    END IF;
    RETURN 0;
  END $function$;
