CREATE OR REPLACE FUNCTION public.credit_volume_cost(p_mode character varying, p_steps jsonb, p_before bigint, p_tokens bigint, p_base numeric)
 RETURNS TABLE(out_cost numeric, out_step integer, out_percent numeric, out_before_percent numeric)
 LANGUAGE sql
 IMMUTABLE
AS $function$
  -- The stepped cost of a record (docs/pricing.md "Volume steps"): p_tokens tokens that take the
  -- period's total from p_before, whose un-stepped exact cost is p_base. p_steps: [[upTo or null,
  -- pricePercent], ...], upTo inclusive. `graduated`: each token at the step its position (p_before + 1
  -- .. p_before + p_tokens) falls in; a record is split at a boundary by its token count, every token
  -- carrying the record's mean price (p_base / p_tokens, whatever kinds it mixes). `volume`: every
  -- token at the step of the record's last position. out_step: the step (from 0) of the last token;
  -- out_percent its percent; out_before_percent: the step of the total before (its last token; the
  -- first step for an empty period). Pure arithmetic, exact numeric.
  WITH s AS (
    SELECT (x.ord - 1)::int AS step, (x.v ->> 1)::numeric AS pct,
           COALESCE(lag((x.v ->> 0)::bigint) OVER (ORDER BY x.ord), 0) AS lo,
           (x.v ->> 0)::bigint AS hi
      FROM jsonb_array_elements(p_steps) WITH ORDINALITY AS x(v, ord)
  ), last AS (
    SELECT s.step, s.pct FROM s WHERE s.hi IS NULL OR s.hi >= GREATEST(p_before + p_tokens, 1) ORDER BY s.step LIMIT 1
  ), first AS (
    SELECT s.pct FROM s WHERE s.hi IS NULL OR s.hi >= GREATEST(p_before, 1) ORDER BY s.step LIMIT 1
  ), graduated AS (
    -- Σ over steps: the tokens of the record in the step × its percent
    SELECT sum(GREATEST(LEAST(COALESCE(s.hi, p_before + p_tokens), p_before + p_tokens) - GREATEST(s.lo, p_before), 0)
               * s.pct) AS weighted
      FROM s
  )
  SELECT CASE WHEN p_mode = 'graduated' AND p_tokens > 0 THEN p_base * g.weighted / (p_tokens * 100)
              ELSE p_base * l.pct / 100 END,
         l.step, l.pct, f.pct
    FROM last l, first f, graduated g
$function$;
