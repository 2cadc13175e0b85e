CREATE OR REPLACE FUNCTION public.credit_volume_walk(p_mode character varying, p_steps jsonb, p_tokens bigint[], p_bases numeric[])
 RETURNS TABLE(out_ord integer, out_credits integer)
 LANGUAGE plpgsql
 IMMUTABLE
AS $function$
  -- A period's records priced at volume steps from an empty total (docs/pricing.md "Simulations"),
  -- for simulations and re-rates: record i has p_tokens[i] tokens of un-stepped exact cost p_bases[i],
  -- in the order the caller gives (by occurred_at, id). The period's exact stepped cost is summed
  -- un-rounded and record i costs ceil(cost after it) - ceil(cost before it), as in the take
  -- (credit_volume_price()): the records' credits are the rounded price of their total, however they
  -- fall. `graduated`: each record's tokens at the steps their positions fall in
  -- (credit_volume_cost(), the take's arithmetic), so a record costs what the take charged it.
  -- `volume`: every record at the step the whole total reaches, so the records cost the volume price
  -- of the total (what the take's charges less its give-backs come to when the steps fall), spread
  -- over them with none below 0. Pure arithmetic, writes nothing.
  DECLARE
    v_total bigint := 0;
    t_tokens bigint := 0;
    t_base numeric := 0;
    t_cost numeric := 0;
    v_cost numeric;
  BEGIN
    FOR i IN 1 .. COALESCE(cardinality(p_tokens), 0) LOOP
      v_total := v_total + p_tokens[i];
    END LOOP;
    FOR i IN 1 .. COALESCE(cardinality(p_tokens), 0) LOOP
      t_base := t_base + p_bases[i];
      IF p_mode = 'volume' THEN -- the whole total's step on the exact cost so far
        v_cost := (credit_volume_cost(p_mode, p_steps, 0, v_total, t_base)).out_cost;
      ELSE
        v_cost := t_cost + (credit_volume_cost(p_mode, p_steps, t_tokens, p_tokens[i], p_bases[i])).out_cost;
      END IF;
      out_ord := i; out_credits := ceil(v_cost) - ceil(t_cost);
      t_tokens := t_tokens + p_tokens[i]; t_cost := v_cost;
      RETURN NEXT;
    END LOOP;
  END $function$;
