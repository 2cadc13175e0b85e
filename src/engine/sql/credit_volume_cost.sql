CREATE OR REPLACE FUNCTION public.credit_volume_cost(p_mode character varying, p_steps jsonb, p_before bigint, p_tokens bigint, p_base numeric,
    OUT out_cost numeric, OUT out_step integer, OUT out_percent numeric, OUT out_before_percent numeric)
 RETURNS record
 LANGUAGE plpgsql
 IMMUTABLE
AS $function$
  -- The stepped cost of a record (docs/pricing.md "Volume steps"): p_tokens tokens that take the
  -- period's total from p_before, whose un-stepped exact cost is p_base. p_steps: [[upTo or null,
  -- pricePercent], ...], upTo inclusive. `graduated`: each token at the step its position (p_before + 1
  -- .. p_before + p_tokens) falls in; a record is split at a boundary by its token count, every token
  -- carrying the record's mean price (p_base / p_tokens, whatever kinds it mixes). `volume`: every
  -- token at the step of the record's last position. out_step: the step (from 0) of the last token;
  -- out_percent its percent; out_before_percent: the step of the total before (its last token; the
  -- first step for an empty period). Pure arithmetic, exact numeric: a walk over at most 10 steps in
  -- simple expressions, so a take pays no statement for it (docs/benchmarks.md "What volume steps
  -- cost the record").
  DECLARE
    v_after bigint := p_before + p_tokens;
    v_lo bigint := 0;
    v_hi bigint;
    v_pct numeric;
    v_weighted numeric := 0; -- Σ over steps: the record's tokens in the step × its percent
    k integer;
  BEGIN
    FOR k IN 0 .. jsonb_array_length(p_steps) - 1 LOOP
      v_hi := (p_steps -> k ->> 0)::bigint;
      v_pct := (p_steps -> k ->> 1)::numeric;
      IF out_before_percent IS NULL AND (v_hi IS NULL OR v_hi >= GREATEST(p_before, 1)) THEN
        out_before_percent := v_pct;
      END IF;
      v_weighted := v_weighted + GREATEST(LEAST(COALESCE(v_hi, v_after), v_after) - GREATEST(v_lo, p_before), 0) * v_pct;
      IF v_hi IS NULL OR v_hi >= GREATEST(v_after, 1) THEN -- the last token's step: the steps beyond hold none
        out_step := k; out_percent := v_pct;
        EXIT;
      END IF;
      v_lo := v_hi;
    END LOOP;
    out_cost := CASE WHEN p_mode = 'graduated' AND p_tokens > 0 THEN p_base * v_weighted / (p_tokens * 100)
                     ELSE p_base * out_percent / 100 END;
  END $function$;
