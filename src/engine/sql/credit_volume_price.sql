CREATE OR REPLACE FUNCTION public.credit_volume_price(p_account_id bigint, p_volume jsonb, OUT out_amount integer, OUT out_step integer,
    OUT out_give_back integer, OUT out_period_start timestamp with time zone, OUT out_period_end timestamp with time zone, OUT out_tokens bigint,
    OUT out_base numeric, OUT out_cost numeric, OUT out_expires timestamp with time zone)
 RETURNS record
 LANGUAGE plpgsql
 STABLE
AS $function$
  -- A record's credits on a rule with volume steps (docs/pricing.md "Volume steps"), decided by the
  -- take under the account's lock against the account's period total for the model
  -- (credit_volume_totals). p_volume: {model, mode, period, steps, tokens, base (the record's exact
  -- un-rounded credits after tiers and discounts), at (when it occurred; null: now)}. One rounding
  -- per request: the record is charged ceil(its exact stepped credits) (credit_volume_cost(): its
  -- tokens at the positions they fall in the total, or all at the step the total reaches), so two
  -- identical records in one step cost the same and none costs 0 that has exact credits above 0.
  -- The total keeps the period's charged credits (cost) beside its tokens and exact credits before the
  -- steps (base). `volume`: when the record takes the total into a lower-priced step, the period's
  -- charged credits (this record's charge included) above ceil(the whole total's exact credits at
  -- the new step) come back (out_give_back), and the charged credits restart at that rounded price,
  -- so a give-back never leaves the period paying less than the rounded price of its total; its
  -- allocation expires p_volume.expiryDays after the period (out_expires). p_volume.before (the
  -- take's, for a batch): the totals after the batch's earlier charges on the model, [{start, tokens,
  -- base, cost}] in order, not kept yet; the last of the period stands for its row. Writes nothing:
  -- credit_volume_charges() keeps the outcome once the take lets the record through.
  DECLARE
    v_at timestamptz := COALESCE((p_volume ->> 'at')::timestamptz, now());
    v_tokens bigint := (p_volume ->> 'tokens')::bigint;
    v_base numeric := (p_volume ->> 'base')::numeric;
    t_tokens bigint; t_base numeric; t_cost numeric;
    c record;
    v_target numeric;
  BEGIN
    IF p_volume ->> 'period' = 'month' THEN -- credit_volume_period()'s month, without its statement
      out_period_start := date_trunc('month', v_at, 'UTC'); out_period_end := out_period_start + interval '1 month';
    ELSE
      SELECT p.out_start, p.out_end INTO out_period_start, out_period_end
        FROM credit_volume_period(p_account_id, p_volume ->> 'period', v_at) p;
    END IF;
    IF p_volume ? 'before' THEN -- the batch's earlier charges on the model, not kept yet: the period's last
      SELECT b.tokens, b.base, b.cost INTO t_tokens, t_base, t_cost
        FROM ROWS FROM (jsonb_to_recordset(p_volume -> 'before') AS (start timestamptz, tokens bigint, base numeric, cost numeric))
             WITH ORDINALITY AS b(start, tokens, base, cost, ord)
       WHERE b.start = out_period_start ORDER BY b.ord DESC LIMIT 1;
    END IF;
    IF t_tokens IS NULL THEN
      SELECT v.tokens, v.base, v.cost INTO t_tokens, t_base, t_cost FROM credit_volume_totals v
       WHERE v.account_id = p_account_id AND v.model_id = p_volume ->> 'model' AND v.period_start = out_period_start;
    END IF;
    t_tokens := COALESCE(t_tokens, 0); t_base := COALESCE(t_base, 0); t_cost := COALESCE(t_cost, 0);
    c := credit_volume_cost(p_volume ->> 'mode', p_volume -> 'steps', t_tokens, v_tokens, v_base);
    out_amount := ceil(c.out_cost); out_step := c.out_step; out_give_back := 0;
    out_tokens := t_tokens + v_tokens; out_base := t_base + v_base; out_cost := t_cost + out_amount;
    out_expires := out_period_end + make_interval(days => (p_volume ->> 'expiryDays')::int);
    IF p_volume ->> 'mode' = 'volume' AND t_tokens > 0 AND c.out_percent < c.out_before_percent THEN
      v_target := ceil(out_base * c.out_percent / 100);
      IF v_target < out_cost THEN
        out_give_back := out_cost - v_target;
        out_cost := v_target;
      END IF;
    END IF;
  END $function$;
