CREATE OR REPLACE FUNCTION public.credit_volume_walk(p_mode character varying, p_steps jsonb, p_tokens bigint[], p_bases numeric[])
 RETURNS TABLE(out_ord integer, out_credits integer)
 LANGUAGE plpgsql
 IMMUTABLE
AS $function$
  -- A period's records priced at volume steps from an empty total (docs/pricing.md "Simulations"),
  -- for simulations and re-rates: record i has p_tokens[i] tokens of un-stepped exact cost p_bases[i],
  -- in the order the caller gives (by occurred_at, id). One rounding per record, as in the take
  -- (credit_volume_price()), with the take's arithmetic (credit_volume_cost()).
  -- `graduated`: record i costs ceil(its tokens at the steps their positions fall in): what the take
  -- charged it. `volume`: every record at the step the whole total reaches; the take charges each
  -- record ceil(its exact credits at its step) and, entering a cheaper step, gives back the period's
  -- charges above ceil(its total at the new step), so once the steps have fallen to the last one the
  -- period nets ceil(its total up to the first record at that step's percent, at that percent) plus
  -- each later record rounded on its own. The records up to that one share that rounded price (each
  -- the rise of the ceiling of the total so far, none below 0), the later ones cost ceil(their exact
  -- credits at the step): together what the take's charges less its give-backs come to when the
  -- steps fall.
  -- Pure arithmetic, writes nothing.
  DECLARE
    n integer := COALESCE(cardinality(p_tokens), 0);
    v_total bigint := 0;
    v_entered integer := n; -- `volume`: the first record whose total reaches the whole total's percent
    v_percent numeric;
    t_tokens bigint := 0;
    t_base numeric := 0;
    c record;
  BEGIN
    IF p_mode = 'volume' THEN
      FOR i IN 1 .. n LOOP
        v_total := v_total + p_tokens[i];
      END LOOP;
      v_percent := (credit_volume_cost(p_mode, p_steps, 0, v_total, 0)).out_percent;
      FOR i IN 1 .. n LOOP
        t_tokens := t_tokens + p_tokens[i];
        IF (credit_volume_cost(p_mode, p_steps, 0, t_tokens, 0)).out_percent = v_percent THEN
          v_entered := i;
          EXIT;
        END IF;
      END LOOP;
      t_tokens := 0;
    END IF;
    FOR i IN 1 .. n LOOP
      out_ord := i;
      IF p_mode = 'volume' AND i <= v_entered THEN
        c := credit_volume_cost(p_mode, p_steps, 0, v_total, t_base + p_bases[i]);
        out_credits := ceil(c.out_cost) - ceil(t_base * c.out_percent / 100);
      ELSIF p_mode = 'volume' THEN
        out_credits := ceil((credit_volume_cost(p_mode, p_steps, 0, v_total, p_bases[i])).out_cost);
      ELSE
        out_credits := ceil((credit_volume_cost(p_mode, p_steps, t_tokens, p_tokens[i], p_bases[i])).out_cost);
      END IF;
      t_tokens := t_tokens + p_tokens[i]; t_base := t_base + p_bases[i];
      RETURN NEXT;
    END LOOP;
  END $function$;
